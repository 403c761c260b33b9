package main

import "github.com/spf13/cobra"

func newCheckpointCmd() *cobra.Command {
	return &cobra.Command{Use: "checkpoint", Short: "checkpoint commands"}
}
