package main

import (
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/node/api"
)

func newPinCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "Keep datasets, runs and namespaces past the sampling window on a full node, advertise and serve them",
	}
	f.add(cmd)
	add := &cobra.Command{
		Use:   "add dataset REF.json | add run RUN | add ns NAMESPACE",
		Short: "Pin a dataset (by the manifest reference a put printed), a run (32-byte ID in hex) or a namespace (hex); prints the pin",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := pinTarget(args[0], args[1])
			if err != nil {
				return err
			}
			return f.callPrint(cmd, "pin.Add", &api.PinInfo{}, t)
		},
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the node's pins with their progress (pages held / total) and DHT keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var pins []api.PinInfo
			if err := f.call(cmd, "pin.Ls", &pins); err != nil {
				return err
			}
			if pins == nil {
				pins = []api.PinInfo{}
			}
			return printJSON(cmd.OutOrStdout(), pins)
		},
	}
	rm := &cobra.Command{
		Use:   "rm ID",
		Short: "Remove a pin by its ID (as pin ls prints it); its data goes at the next prune",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.call(cmd, "pin.Rm", nil, args[0]); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{"removed": args[0]})
		},
	}
	cmd.AddCommand(add, ls, rm)
	return cmd
}

// pinTarget builds a pin.Add target from a kind and its argument.
func pinTarget(kind, arg string) (api.PinTarget, error) {
	switch kind {
	case "dataset":
		ref, err := readRef(arg)
		if err != nil {
			return api.PinTarget{}, err
		}
		return api.PinTarget{Dataset: &ref}, nil
	case "run":
		id, err := parseRunID(arg)
		if err != nil {
			return api.PinTarget{}, err
		}
		return api.PinTarget{Run: hex.EncodeToString(id[:])}, nil
	case "ns", "namespace":
		return api.PinTarget{Namespace: arg}, nil
	}
	return api.PinTarget{}, fmt.Errorf("unknown pin kind %q: want dataset, run or ns", kind)
}
