package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/objects"
	"github.com/tessera-da/tessera/node/rpc"
)

func newCheckpointCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "checkpoint", Short: "Publish, fetch, trace and roll back a run's checkpoints"}
	f.add(cmd)
	cmd.AddCommand(checkpointPutCmd(f), checkpointGetCmd(f), checkpointLogCmd(f), checkpointRollbackCmd(f))
	return cmd
}

func checkpointPutCmd(f *clientFlags) *cobra.Command {
	var (
		home, runS, parentS, format, dataSteps string
		step, pageSize                         uint64
		proofs                                 []string
	)
	put := &cobra.Command{
		Use:   "put FILE",
		Short: "Publish FILE as a checkpoint of --run (pages, manifest, signed record; a tensor index for safetensors); prints its reference (JSON)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run, err := parseRunID(runS)
			if err != nil {
				return err
			}
			o := objects.CheckpointOptions{Step: step, Format: format, Object: objects.Options{PageSize: pageSize}}
			if parentS != "" {
				if o.Parent, err = parseCheckpointID(parentS); err != nil {
					return fmt.Errorf("--parent: %w", err)
				}
			}
			if o.DataSteps, err = parseStepRanges(dataSteps); err != nil {
				return fmt.Errorf("--data-steps: %w", err)
			}
			if o.Proofs, err = parseProofIDs(proofs); err != nil {
				return fmt.Errorf("--proofs: %w", err)
			}
			file, size, err := openSized(args[0])
			if err != nil {
				return err
			}
			defer file.Close()
			if o.Key, err = config.LoadOrCreateNodeKey(home); err != nil {
				return err
			}
			ctx, c, done, err := f.dialUnbounded(cmd)
			if err != nil {
				return err
			}
			defer done()
			ref, err := objects.CheckpointPut(ctx, c, run, file, size, o)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), ref)
		},
	}
	put.Flags().StringVar(&runS, "run", "", "run: its ID (64 hex digits) or its REF.json")
	put.Flags().Uint64Var(&step, "step", 0, "training step of the checkpoint")
	put.Flags().StringVar(&parentS, "parent", "", "parent checkpoint: its ID in hex or its REF.json")
	put.Flags().StringVar(&format, "format", "", `format; empty detects safetensors (else "binary")`)
	put.Flags().StringVar(&dataSteps, "data-steps", "", "data steps consumed, e.g. 0-99,120")
	put.Flags().StringSliceVar(&proofs, "proofs", nil, "training-proof IDs (hex) the checkpoint builds on")
	put.Flags().StringVar(&home, "home", defaultHome(), "home whose node key signs the checkpoint")
	put.Flags().Uint64Var(&pageSize, "page-size", objects.DefaultPageSize, "bytes per page blob")
	_ = put.MarkFlagRequired("run")
	_ = put.MarkFlagRequired("step")
	return put
}

func checkpointGetCmd(f *clientFlags) *cobra.Command {
	var out, tensor string
	get := &cobra.Command{
		Use:   "get REF.json",
		Short: "Fetch a checkpoint (or one --tensor) verifying its record, every page, and the tensor hashes",
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
			var (
				data []byte
				ck   *dataset.Checkpoint
			)
			res := map[string]any{"verified": true, "out": out}
			if tensor != "" {
				var t dataset.Tensor
				if data, t, ck, err = objects.CheckpointTensor(ctx, c, ref, tensor); err != nil {
					return err
				}
				res["tensor"] = api.TensorJSON{Name: t.Name, DType: t.DType, Shape: t.Shape, Start: t.Start, End: t.End, SHA256: hex.EncodeToString(t.SHA256[:])}
			} else if data, ck, err = objects.CheckpointGet(ctx, c, ref); err != nil {
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return err
			}
			res["bytes"], res["step"], res["format"], res["tensors"] = len(data), ck.Step, ck.Format, len(ck.Tensors)
			res["id"] = hex.EncodeToString(ref.ID[:])
			return printJSON(cmd.OutOrStdout(), res)
		},
	}
	get.Flags().StringVar(&out, "out", "checkpoint.bin", "where to write the bytes")
	get.Flags().StringVar(&tensor, "tensor", "", "fetch only this tensor (safetensors checkpoints)")
	return get
}

func checkpointLogCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "log RUN",
		Short: "Print a run's checkpoints with their lineage (parents, data steps, proofs), rollbacks and proofs per step",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run, err := parseRunID(args[0])
			if err != nil {
				return err
			}
			return printResult(cmd, f, func(ctx context.Context, c *rpc.Client) (*api.CheckpointLogJSON, error) {
				l, err := objects.CheckpointLog(ctx, c, run)
				if err != nil {
					return nil, err
				}
				return api.NewCheckpointLogJSON(l)
			})
		},
	}
}

func checkpointRollbackCmd(f *clientFlags) *cobra.Command {
	var (
		home, toS, reason string
		step              uint64
	)
	rb := &cobra.Command{
		Use:   "rollback RUN",
		Short: "Post a signed run-control record: training of RUN resumes from checkpoint --to",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run, err := parseRunID(args[0])
			if err != nil {
				return err
			}
			to, err := parseCheckpointID(toS)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			o := objects.RollbackOptions{Reason: reason}
			if cmd.Flags().Changed("step") {
				o.Step = &step
			}
			if o.Key, err = config.LoadOrCreateNodeKey(home); err != nil {
				return err
			}
			return printResult(cmd, f, func(ctx context.Context, c *rpc.Client) (*objects.Ref, error) {
				return objects.CheckpointRollback(ctx, c, run, to, o)
			})
		},
	}
	rb.Flags().StringVar(&toS, "to", "", "checkpoint to resume from: its ID in hex or its REF.json")
	rb.Flags().Uint64Var(&step, "step", 0, "step training resumes at (default: the checkpoint's step)")
	rb.Flags().StringVar(&reason, "reason", "", "why")
	rb.Flags().StringVar(&home, "home", defaultHome(), "home whose node key signs the record")
	_ = rb.MarkFlagRequired("to")
	return rb
}

// parseCheckpointID reads a checkpoint ID: 64 hex digits, or the path of
// the checkpoint's REF.json.
func parseCheckpointID(s string) (dataset.ID, error) { return parseIDArg("checkpoint", s) }

// parseRunID reads a run ID: 64 hex digits, or the path of the run's
// REF.json (what train declare printed).
func parseRunID(s string) ([32]byte, error) {
	id, err := parseIDArg("run", s)
	return [32]byte(id), err
}

// parseIDArg reads the ID of a what: 64 hex digits, or the path of its
// REF.json.
func parseIDArg(what, s string) (dataset.ID, error) {
	if b, err := hex.DecodeString(strings.TrimPrefix(s, "0x")); err == nil {
		if len(b) != dataset.IDSize {
			return dataset.ID{}, fmt.Errorf("%s ID %q is not %d bytes", what, s, dataset.IDSize)
		}
		return dataset.ID(b), nil
	}
	ref, err := readRef(s)
	if err != nil {
		return dataset.ID{}, fmt.Errorf("%q is neither a hex %s ID nor a readable REF.json: %w", s, what, err)
	}
	return ref.ID, nil
}

// parseHex32 reads 32 bytes written as 64 hex digits (surrounding space
// and a 0x prefix allowed); what names the value in the failure.
func parseHex32(what, s string) ([32]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil || len(b) != 32 {
		return [32]byte{}, fmt.Errorf("%s %q is not 64 hex digits", what, s)
	}
	return [32]byte(b), nil
}

// parseStepRanges reads "a-b,c,…" into increasing, disjoint ranges.
func parseStepRanges(s string) ([]dataset.StepRange, error) {
	if s == "" {
		return nil, nil
	}
	var rs []dataset.StepRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("step %q is not a number", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil {
				return nil, fmt.Errorf("step %q is not a number", hi)
			}
		}
		rs = append(rs, dataset.StepRange{First: a, Last: b})
	}
	return rs, nil
}

// parseProofIDs reads hex IDs and sorts them (the record wants them
// strictly increasing).
func parseProofIDs(ss []string) ([][32]byte, error) {
	var out [][32]byte
	for _, s := range ss {
		id, err := parseHex32("proof ID", s)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out, nil
}
