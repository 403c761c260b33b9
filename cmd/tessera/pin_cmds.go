package main

import "github.com/spf13/cobra"

func newPinCmd() *cobra.Command {
	return &cobra.Command{Use: "pin", Short: "pin commands"}
}
