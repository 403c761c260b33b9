package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/objects"
)

func newDatasetCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "dataset", Short: "Publish, fetch, list and verify objects larger than a blob (pages under a signed manifest)"}
	f.add(cmd)
	var (
		showProgress bool
		parallel     int
	)
	cmd.PersistentFlags().BoolVar(&showProgress, "progress", false, "draw a progress bar on stderr even when it is not a terminal")
	cmd.PersistentFlags().IntVar(&parallel, "parallel", 0, "pages in flight at once (0: the default)")

	var (
		home, name, version, license, format, media, journal string
		transform, srcURI, srcRev, srcSHA, holdout           string
		parents                                              []string
		pageSize                                             uint64
	)
	put := &cobra.Command{
		Use:   "put SCOPE FILE",
		Short: "Publish FILE as page blobs under a manifest signed with the --home node key; prints the manifest reference (JSON)",
		Long: `Publish FILE as page blobs under a manifest signed with the --home node key and
print the manifest reference (JSON). With --journal, every included page is
recorded in the journal file: rerunning the same command after a failure
submits only the pages that are missing.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			meta := &dataset.Manifest{Name: name, Version: version, License: license, RecordFormat: format, Transform: transform,
				Source: dataset.Source{URI: srcURI, Revision: srcRev}}
			if srcSHA != "" {
				h, err := parseHex32("--source-sha256", srcSHA)
				if err != nil {
					return err
				}
				meta.Source.SHA256 = h
			}
			for _, p := range parents {
				id, err := parseIDArg("parent dataset", p)
				if err != nil {
					return fmt.Errorf("--parent: %w", err)
				}
				meta.Parents = append(meta.Parents, id)
			}
			if holdout != "" {
				rs, err := parseStepRanges(holdout)
				if err != nil {
					return fmt.Errorf("--holdout: %w", err)
				}
				for _, r := range rs {
					if r.Last < r.First || r.Last-r.First >= dataset.MaxHoldout {
						return fmt.Errorf("--holdout: range %d-%d", r.First, r.Last)
					}
					for i := r.First; ; i++ {
						meta.Holdout = append(meta.Holdout, i)
						if len(meta.Holdout) > dataset.MaxHoldout {
							return fmt.Errorf("--holdout: more than %d pages", dataset.MaxHoldout)
						}
						if i == r.Last {
							break
						}
					}
				}
			}
			file, size, err := openSized(args[1])
			if err != nil {
				return err
			}
			defer file.Close()
			key, err := config.LoadOrCreateNodeKey(home)
			if err != nil {
				return err
			}
			ctx, c, done, err := f.dialUnbounded(cmd)
			if err != nil {
				return err
			}
			defer done()
			bar := newProgressBar(cmd.ErrOrStderr(), "publishing", showProgress)
			defer bar.finish()
			ref, err := objects.Put(ctx, c, []byte(args[0]), file, size, objects.Options{
				PageSize: pageSize, Parallel: parallel, Key: key, MediaType: media, Journal: journal, Progress: bar.update,
				Dataset: meta,
			})
			if err != nil {
				return err
			}
			bar.finish()
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
	put.Flags().StringVar(&journal, "journal", "", "upload journal file; rerun with the same journal to resume")
	put.Flags().StringSliceVar(&parents, "parent", nil, "dataset this one was derived from: its manifest ID (hex) or REF.json (repeatable)")
	put.Flags().StringVar(&transform, "transform", "", "how the parents became this dataset (e.g. a script's hash)")
	put.Flags().StringVar(&srcURI, "source-uri", "", "where the bytes came from (e.g. hf://datasets/org/name)")
	put.Flags().StringVar(&srcRev, "source-revision", "", "revision of the source (e.g. a commit)")
	put.Flags().StringVar(&srcSHA, "source-sha256", "", "SHA-256 of the source bytes (hex)")
	put.Flags().StringVar(&holdout, "holdout", "", "pages held out for evaluation, e.g. 0-3,17 (not assigned to workers)")

	var out, rng string
	get := &cobra.Command{
		Use:   "get REF.json",
		Short: "Fetch an object (or --range of it) into --out, verifying every page; rerun to resume",
		Long: `Fetch an object by its manifest reference into --out, verifying every page
(its SHA-256 against the manifest entry, the entry against the manifest root,
the blob commitment against the entry and its proof against the block's data
root). Pages are written to OUT.partial as they are verified; an interrupted
get resumes when rerun, and OUT appears only once every page is verified.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := readRef(args[0])
			if err != nil {
				return err
			}
			off, n, err := parseRange(rng)
			if err != nil {
				return err
			}
			ctx, c, done, err := f.dialUnbounded(cmd)
			if err != nil {
				return err
			}
			defer done()
			bar := newProgressBar(cmd.ErrOrStderr(), "fetching", showProgress)
			defer bar.finish()
			res, err := objects.Download(ctx, c, ref, out, objects.DownloadOptions{
				ReadOptions: objects.ReadOptions{Parallel: parallel, Progress: bar.update}, Offset: off, Length: n,
			})
			if err != nil {
				return err
			}
			bar.finish()
			return printJSON(cmd.OutOrStdout(), map[string]any{
				"bytes": res.Bytes, "offset": off, "pages": res.Pages, "reused_pages": res.Reused,
				"name": res.Manifest.Name, "verified": true, "out": out,
			})
		},
	}
	get.Flags().StringVar(&out, "out", "object.bin", "where to write the object")
	get.Flags().StringVar(&rng, "range", "", "OFF:LEN, the bytes [OFF, OFF+LEN) only (LEN empty or 0: to the end)")

	ls := &cobra.Command{
		Use:   "ls SCOPE",
		Short: "List the dataset manifests published under SCOPE (verified and signed ones; others are counted as skipped)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, c, done, err := f.dialUnbounded(cmd)
			if err != nil {
				return err
			}
			defer done()
			list, skipped, err := objects.List(ctx, c, []byte(args[0]))
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{"manifests": list, "skipped": skipped})
		},
	}

	var local string
	verify := &cobra.Command{
		Use:   "verify REF.json",
		Short: "Fetch and verify every page of an object without keeping it, or (--file) check a local copy against its manifest",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := readRef(args[0])
			if err != nil {
				return err
			}
			ctx, c, done, err := f.dialUnbounded(cmd)
			if err != nil {
				return err
			}
			defer done()
			bar := newProgressBar(cmd.ErrOrStderr(), "verifying", showProgress)
			defer bar.finish()
			var m *dataset.Manifest
			if local == "" {
				if m, err = objects.Verify(ctx, c, ref, objects.ReadOptions{Parallel: parallel, Progress: bar.update}); err != nil {
					return err
				}
			} else {
				if m, err = objects.FetchManifest(ctx, c, ref); err != nil {
					return err
				}
				file, size, err := openSized(local)
				if err != nil {
					return err
				}
				defer file.Close()
				if err := objects.VerifyLocal(m, file, size, bar.update); err != nil {
					return fmt.Errorf("%s: %w", local, err)
				}
			}
			bar.finish()
			res := map[string]any{"id": hex.EncodeToString(ref.ID[:]), "name": m.Name, "bytes": m.ObjectLength, "pages": len(m.Entries), "verified": true}
			if local != "" {
				res["file"] = local
			}
			return printJSON(cmd.OutOrStdout(), res)
		},
	}
	verify.Flags().StringVar(&local, "file", "", "check this local file against the manifest instead of fetching the pages")

	cmd.AddCommand(put, get, ls, verify)
	return cmd
}

// parseRange parses OFF:LEN (decimal bytes; LEN empty or 0 means to the
// end); the empty string is the whole object.
func parseRange(s string) (off, n uint64, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("--range %q: want OFF:LEN", s)
	}
	if off, err = strconv.ParseUint(a, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("--range %q: offset: %w", s, err)
	}
	if b != "" {
		if n, err = strconv.ParseUint(b, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("--range %q: length: %w", s, err)
		}
	}
	return off, n, nil
}
