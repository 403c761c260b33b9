package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/blob/dataset"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/config"
	"github.com/tessera-da/tessera/node/objects"
	"github.com/tessera-da/tessera/node/rpc"
)

func newTrainCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "train", Short: "Declare training runs, compute assignments, prove and verify training-data proofs"}
	f.add(cmd)
	cmd.AddCommand(trainKeyCmd(), trainDeclareCmd(f), trainShowCmd(f), trainAssignCmd(f), trainProveCmd(f), trainVerifyCmd(f))
	return cmd
}

// trainFields splits a file into whitespace-separated fields.
func trainFields(path string) ([]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var out []string
	sc := bufio.NewScanner(file)
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}

func trainKeyCmd() *cobra.Command {
	var home string
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Print the worker public key (hex) of the --home node key, creating the key if there is none",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := config.LoadOrCreateNodeKey(home)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), config.PublicKeyHex(key))
			return err
		},
	}
	cmd.Flags().StringVar(&home, "home", defaultHome(), "home whose node key is the worker's key")
	return cmd
}

func trainDeclareCmd(f *clientFlags) *cobra.Command {
	var (
		datasetRef, workersFile, out                string
		workers                                     []string
		pagesPerStep, seedDelay, replication, start uint64
	)
	cmd := &cobra.Command{
		Use:   "declare --dataset REF.json --worker PUBKEYHEX ... --pages-per-step N --seed-delay D --replication R",
		Short: "Post a run declaration (run-control record) over a published dataset; prints the run's reference (JSON)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mref, err := readRef(datasetRef)
			if err != nil {
				return fmt.Errorf("--dataset: %w", err)
			}
			if workersFile != "" {
				more, err := trainFields(workersFile)
				if err != nil {
					return fmt.Errorf("--workers: %w", err)
				}
				workers = append(workers, more...)
			}
			spec := objects.RunSpec{PagesPerStep: pagesPerStep, SeedDelay: seedDelay, Replication: replication, StartHeight: start}
			for _, w := range workers {
				k, err := parseHex32("worker ed25519 public key", w)
				if err != nil {
					return err
				}
				spec.Workers = append(spec.Workers, k[:])
			}
			ctx, c, done, err := f.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			ref, run, err := objects.DeclareRun(ctx, c, mref, spec)
			if err != nil {
				return err
			}
			if out != "" {
				b, _ := json.MarshalIndent(ref, "", "  ")
				if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "run %x: step 0 opens at height %d, step s is seeded by the header at %d + (s+1)·%d\n",
				run.ID, run.StartHeight, run.StartHeight, run.SeedDelay)
			return printJSON(cmd.OutOrStdout(), ref)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&datasetRef, "dataset", "", "the dataset manifest's REF.json (from dataset put)")
	fl.StringArrayVar(&workers, "worker", nil, "a registered worker's hex ed25519 public key (repeat, in index order)")
	fl.StringVar(&workersFile, "workers", "", "file of worker public keys in hex, one per line (after any --worker)")
	fl.Uint64Var(&pagesPerStep, "pages-per-step", 0, "distinct pages the run consumes per step")
	fl.Uint64Var(&seedDelay, "seed-delay", 5, "Δ: blocks between a step opening and its seed header")
	fl.Uint64Var(&replication, "replication", 1, "workers per page")
	fl.Uint64Var(&start, "start", 0, fmt.Sprintf("height at which step 0 opens (default: head + %d)", objects.DefaultStartMargin))
	fl.StringVar(&out, "out", "", "also write the run's reference to this file")
	_ = cmd.MarkFlagRequired("dataset")
	_ = cmd.MarkFlagRequired("pages-per-step")
	return cmd
}

func trainShowCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show RUN.json",
		Short: "Print a run declaration, verified against the chain",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := readRef(args[0])
			if err != nil {
				return err
			}
			return printResult(cmd, f, func(ctx context.Context, c *rpc.Client) (*api.RunInfo, error) {
				_, info, err := objects.GetRun(ctx, c, ref)
				return info, err
			})
		},
	}
}

// waitForSeed waits until the seed header of step of the run at ref
// exists, saying on w what it waits for.
func waitForSeed(ctx context.Context, c objects.Caller, ref objects.Ref, step uint64, w io.Writer) error {
	run, _, err := objects.GetRun(ctx, c, ref)
	if err != nil {
		return err
	}
	h, err := run.StepSeedHeight(step)
	if err != nil {
		return err
	}
	var head api.ExtendedHeader
	if err := c.Call(ctx, "header.LocalHead", &head); err == nil && head.Tessera != nil && head.Tessera.Height < h {
		fmt.Fprintf(w, "waiting for the seed header of step %d at height %d (head %d)\n", step, h, head.Tessera.Height)
	}
	if err := c.Call(ctx, "header.WaitForHeight", nil, h); err != nil {
		return fmt.Errorf("waiting for the seed header %d: %w", h, err)
	}
	return nil
}

func trainAssignCmd(f *clientFlags) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "assign RUN.json STEP WORKER",
		Short: "Print the pages WORKER (index or hex public key) trains on at STEP, with their manifest entries",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := readRef(args[0])
			if err != nil {
				return err
			}
			step, err := strconv.ParseUint(args[1], 10, 64)
			if err != nil {
				return fmt.Errorf("step %q is not a non-negative integer", args[1])
			}
			ctx, c, done, err := f.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			if wait {
				if err := waitForSeed(ctx, c, ref, step, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			a, err := objects.Assign(ctx, c, ref, step, args[2])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), a)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait (up to --timeout) for the step's seed header instead of failing")
	return cmd
}

func trainProveCmd(f *clientFlags) *cobra.Command {
	var (
		runPath, home, samplesPath, lossesPath, parentS, out string
		fedPaths                                             []string
		step                                                 uint64
		full, post, wait                                     bool
	)
	cmd := &cobra.Command{
		Use:   "prove --run RUN.json --step S",
		Short: "Build the signed training-data proof of the --home key's worker for a step; writes the proof (binary) and prints a JSON summary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ref, err := readRef(runPath)
			if err != nil {
				return fmt.Errorf("--run: %w", err)
			}
			key, err := config.LoadOrCreateNodeKey(home)
			if err != nil {
				return err
			}
			o := objects.ProveOptions{Step: step, Key: key, Full: full}
			for _, p := range fedPaths {
				b, err := os.ReadFile(p)
				if err != nil {
					return fmt.Errorf("--fed: %w", err)
				}
				o.Fed = append(o.Fed, b)
			}
			if samplesPath != "" {
				fields, err := trainFields(samplesPath)
				if err != nil {
					return fmt.Errorf("--sample-hashes: %w", err)
				}
				o.SampleHashes = make([][32]byte, 0, len(fields))
				for _, s := range fields {
					h, err := parseHex32("sample hash", s)
					if err != nil {
						return fmt.Errorf("--sample-hashes: %w", err)
					}
					o.SampleHashes = append(o.SampleHashes, h)
				}
			}
			if lossesPath != "" {
				fields, err := trainFields(lossesPath)
				if err != nil {
					return fmt.Errorf("--losses: %w", err)
				}
				for _, s := range fields {
					v, err := strconv.ParseFloat(s, 32)
					if err != nil {
						return fmt.Errorf("--losses: %q is not a number", s)
					}
					o.Losses = append(o.Losses, float32(v))
				}
			}
			if parentS != "" {
				h, err := parseHex32("parent checkpoint ID", parentS)
				if err != nil {
					return fmt.Errorf("--parent: %w", err)
				}
				o.Parent = h
			}
			ctx, c, done, err := f.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			if wait {
				if err := waitForSeed(ctx, c, ref, step, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			p, err := objects.ProveTraining(ctx, c, ref, o)
			if err != nil {
				return err
			}
			enc, err := p.MarshalBinary()
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, enc, 0o644); err != nil {
				return err
			}
			id, _ := p.ID()
			summary := map[string]any{
				"proof": out, "id": hex.EncodeToString(id[:]), "run": hex.EncodeToString(p.RunID[:]), "step": p.Step,
				"worker": hex.EncodeToString(p.Worker), "pages": len(p.Pages), "full": p.Full(), "size": len(enc),
				"samples": p.SamplesCount, "fed_sha256": hex.EncodeToString(p.FedSHA256[:]),
			}
			if post {
				posted, err := objects.PostProof(ctx, c, p)
				if err != nil {
					return err
				}
				summary["posted"] = posted
			}
			return printJSON(cmd.OutOrStdout(), summary)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&runPath, "run", "", "the run's REF.json (from train declare)")
	fl.Uint64Var(&step, "step", 0, "training step")
	fl.StringVar(&home, "home", defaultHome(), "home whose node key is the worker's key")
	fl.StringArrayVar(&fedPaths, "fed", nil, "a file with the bytes fed for one assigned page, in assignment order (repeat; default: fetch the pages)")
	fl.StringVar(&samplesPath, "sample-hashes", "", "file of per-sample SHA-256 hashes in hex, in feeding order (default: one sample per page)")
	fl.StringVar(&lossesPath, "losses", "", "file of per-sample losses, whitespace-separated")
	fl.StringVar(&parentS, "parent", "", "parent checkpoint ID (hex)")
	fl.BoolVar(&full, "full", false, "attach each page blob's commitment proof to its block's data root")
	fl.BoolVar(&post, "post", false, "post the proof in the run's training-proofs namespace")
	fl.BoolVar(&wait, "wait", false, "wait (up to --timeout) for the step's seed header instead of failing")
	fl.StringVar(&out, "out", "proof.bin", "where to write the proof")
	_ = cmd.MarkFlagRequired("run")
	_ = cmd.MarkFlagRequired("step")
	return cmd
}

func trainVerifyCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "verify PROOF",
		Short: "Have the node verify a training-data proof against its headers; prints the result and fails naming the failed check",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if len(b) > dataset.MaxTrainingProofSize {
				return fmt.Errorf("%s is %d bytes, a proof is at most %d", args[0], len(b), dataset.MaxTrainingProofSize)
			}
			ctx, c, done, err := f.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			res, err := objects.VerifyProof(ctx, c, b)
			if err != nil {
				return err
			}
			if err := printJSON(cmd.OutOrStdout(), res); err != nil {
				return err
			}
			if !res.Valid {
				return fmt.Errorf("proof rejected by the %s check", res.FailedCheck)
			}
			return nil
		},
	}
}
