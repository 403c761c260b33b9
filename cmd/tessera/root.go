package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/node/conformance"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "tessera",
		Short:         "Tessera: a Celestia-compatible data-availability node",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newConformanceCmd(), newInitCmd(), newStartCmd(), newAuthCmd(), newDevnetCmd(), newBlobCmd(), newHeaderCmd(), newShareCmd(), newDatasetCmd(), newPinCmd(), newTrainCmd(), newCheckpointCmd())
	return root
}

func newConformanceCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "conformance DIR",
		Short: "Check Tessera's formats against Celestia reference vectors in DIR",
		Long: `Reads every reference vector file in DIR whose schema Tessera knows
(` + fmt.Sprint(conformance.Files()) + `), recomputes every expected value from the
file's inputs, prints one line per failing value and a final summary line
"N passed, M failed, S skipped". Exits with status 1 if anything failed or a
file could not be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := conformance.RunDir(args[0])
			r.Print(cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if r.Failed > 0 {
				return errors.New("conformance failed")
			}
			return nil
		},
	}
}
