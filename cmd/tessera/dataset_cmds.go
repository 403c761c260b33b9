package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/objects"
)

func newDatasetCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "dataset", Short: "Publish and fetch objects larger than a blob (pages under a signed manifest)"}
	f.add(cmd)
	var (
		home, name, version, license, format, media string
		pageSize                                    uint64
	)
	put := &cobra.Command{
		Use:   "put SCOPE FILE",
		Short: "Publish FILE as page blobs under a manifest signed with the --home node key; prints the manifest reference (JSON)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer file.Close()
			st, err := file.Stat()
			if err != nil {
				return err
			}
			key, err := config.LoadOrCreateNodeKey(home)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := dialRPC(ctx, f)
			if err != nil {
				return err
			}
			defer c.Close()
			ref, err := objects.Put(ctx, c, []byte(args[0]), file, st.Size(), objects.Options{
				PageSize: pageSize, Key: key, MediaType: media,
				Dataset: &dataset.Manifest{Name: name, Version: version, License: license, RecordFormat: format},
			})
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), ref)
		},
	}
	put.Flags().StringVar(&home, "home", defaultHome(), "home whose node key signs the manifest")
	put.Flags().Uint64Var(&pageSize, "page-size", objects.DefaultPageSize, "bytes per page blob")
	put.Flags().StringVar(&name, "name", "", "dataset name")
	put.Flags().StringVar(&version, "version", "", "dataset version")
	put.Flags().StringVar(&license, "license", "", "SPDX license expression")
	put.Flags().StringVar(&format, "format", "", "record format (e.g. tokens-u32, jsonl)")
	put.Flags().StringVar(&media, "media-type", "application/octet-stream", "media type")
	var out string
	get := &cobra.Command{
		Use:   "get REF.json",
		Short: "Fetch an object by its manifest reference, verifying every page against the manifest and its block's data root",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var ref objects.Ref
			if err := json.Unmarshal(b, &ref); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			ctx := cmd.Context()
			c, err := dialRPC(ctx, f)
			if err != nil {
				return err
			}
			defer c.Close()
			data, m, err := objects.Get(ctx, c, ref)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{"bytes": len(data), "pages": len(m.Entries), "name": m.Name, "verified": true, "out": out})
		},
	}
	get.Flags().StringVar(&out, "out", "object.bin", "where to write the object")
	cmd.AddCommand(put, get)
	return cmd
}
