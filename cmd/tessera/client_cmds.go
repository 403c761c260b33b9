package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-da/tessera/blob"
	"github.com/tessera-da/tessera/node/api"
	"github.com/tessera-da/tessera/node/objects"
	"github.com/tessera-da/tessera/node/rpc"
	"github.com/tessera-da/tessera/share"
)

// clientFlags are shared by the commands that talk to a node.
type clientFlags struct {
	url     string
	token   string
	timeout time.Duration
}

func (f *clientFlags) add(cmd *cobra.Command) {
	url := os.Getenv("TESSERA_RPC")
	if url == "" {
		url = "http://127.0.0.1:26658"
	}
	cmd.PersistentFlags().StringVar(&f.url, "rpc", url, "node JSON-RPC URL (default: $TESSERA_RPC, else the local default)")
	cmd.PersistentFlags().StringVar(&f.token, "token", os.Getenv("TESSERA_AUTH_TOKEN"), "JWT (default: $TESSERA_AUTH_TOKEN)")
	cmd.PersistentFlags().DurationVar(&f.timeout, "timeout", 2*time.Minute, "how long to wait for the node")
}

// dial connects to the node the flags name, within --timeout: the
// returned context carries the bound and done closes the client and
// releases it.
func (f *clientFlags) dial(cmd *cobra.Command) (context.Context, *rpc.Client, func(), error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	return f.connect(ctx, cancel)
}

// dialUnbounded connects for a command that --timeout does not bound: the
// dataset and checkpoint transfers, which take as long as their objects
// need.
func (f *clientFlags) dialUnbounded(cmd *cobra.Command) (context.Context, *rpc.Client, func(), error) {
	return f.connect(cmd.Context(), func() {})
}

func (f *clientFlags) connect(ctx context.Context, cancel func()) (context.Context, *rpc.Client, func(), error) {
	c, err := rpc.Dial(ctx, f.url, f.token)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, c, func() { c.Close(); cancel() }, nil
}

// call makes one call to the node within --timeout.
func (f *clientFlags) call(cmd *cobra.Command, method string, result any, params ...any) error {
	ctx, c, done, err := f.dial(cmd)
	if err != nil {
		return err
	}
	defer done()
	return c.Call(ctx, method, result, params...)
}

// callPrint makes one call to the node within --timeout and prints its
// result (a pointer) as JSON.
func (f *clientFlags) callPrint(cmd *cobra.Command, method string, result any, params ...any) error {
	if err := f.call(cmd, method, result, params...); err != nil {
		return err
	}
	return printJSON(cmd.OutOrStdout(), result)
}

// printResult connects within --timeout, runs do and prints what it
// returns as JSON.
func printResult[T any](cmd *cobra.Command, f *clientFlags, do func(ctx context.Context, c *rpc.Client) (T, error)) error {
	ctx, c, done, err := f.dial(cmd)
	if err != nil {
		return err
	}
	defer done()
	v, err := do(ctx, c)
	if err != nil {
		return err
	}
	return printJSON(cmd.OutOrStdout(), v)
}

// readRef reads a reference file (REF.json, as put, checkpoint put and
// train declare print it).
func readRef(path string) (objects.Ref, error) {
	var ref objects.Ref
	b, err := os.ReadFile(path)
	if err != nil {
		return ref, err
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		return ref, fmt.Errorf("%s: not a reference: %w", path, err)
	}
	return ref, nil
}

// openSized opens a file to publish or check and returns its size.
func openSized(path string) (*os.File, int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	return file, st.Size(), nil
}

func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// parseNamespace accepts a version-0 sub-ID of at most 10 bytes or a full
// 29-byte namespace, in hex (optional 0x prefix).
func parseNamespace(s string) (share.Namespace, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		return share.Namespace{}, fmt.Errorf("namespace %q is not hex", s)
	}
	if len(b) == share.NamespaceSize {
		return share.NewNamespaceFromBytes(b)
	}
	return share.NewV0Namespace(b)
}

// parseBytes accepts hex (0x prefix) or base64.
func parseBytes(s string) ([]byte, error) {
	if strings.HasPrefix(s, "0x") {
		return hex.DecodeString(s[2:])
	}
	if b, err := hex.DecodeString(s); err == nil && len(s)%2 == 0 {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

func parseHeight(s string) (uint64, error) {
	h, err := strconv.ParseUint(s, 10, 64)
	if err != nil || h == 0 {
		return 0, fmt.Errorf("height %q is not a positive integer", s)
	}
	return h, nil
}

func newBlobCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "blob", Short: "Submit and read blobs through a node's RPC"}
	f.add(cmd)
	var file string
	submit := &cobra.Command{
		Use:   "submit NAMESPACE [DATA]",
		Short: "Submit a blob (DATA as text, or --file) and wait for its block",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, err := parseNamespace(args[0])
			if err != nil {
				return err
			}
			var data []byte
			switch {
			case file != "" && len(args) == 2:
				return fmt.Errorf("give DATA or --file, not both")
			case file != "":
				if data, err = os.ReadFile(file); err != nil {
					return err
				}
			case len(args) == 2:
				data = []byte(args[1])
			default:
				return fmt.Errorf("no data: give DATA or --file")
			}
			b, err := blob.New(ns, data, share.ShareVersionZero, nil)
			if err != nil {
				return err
			}
			var height uint64
			if err := f.call(cmd, "blob.Submit", &height, []*blob.Blob{b}, nil); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{"height": height, "namespace": ns, "commitment": hex.EncodeToString(b.Commitment())})
		},
	}
	submit.Flags().StringVar(&file, "file", "", "read the blob data from this file")
	get := &cobra.Command{
		Use:   "get HEIGHT NAMESPACE COMMITMENT",
		Short: "Get a blob by height, namespace and commitment (hex or base64)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, ns, c, err := blobRef(args)
			if err != nil {
				return err
			}
			return f.callPrint(cmd, "blob.Get", &blob.Blob{}, h, ns, c)
		},
	}
	getAll := &cobra.Command{
		Use:   "get-all HEIGHT NAMESPACE...",
		Short: "Get every blob of the namespaces at a height",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := parseHeight(args[0])
			if err != nil {
				return err
			}
			var nss []share.Namespace
			for _, a := range args[1:] {
				ns, err := parseNamespace(a)
				if err != nil {
					return err
				}
				nss = append(nss, ns)
			}
			return f.callPrint(cmd, "blob.GetAll", &[]*blob.Blob{}, h, nss)
		},
	}
	cmd.AddCommand(submit, get, getAll)
	cmd.AddCommand(blobProofCmds(f)...)
	return cmd
}

func blobRef(args []string) (uint64, share.Namespace, blob.Commitment, error) {
	h, err := parseHeight(args[0])
	if err != nil {
		return 0, share.Namespace{}, nil, err
	}
	ns, err := parseNamespace(args[1])
	if err != nil {
		return 0, share.Namespace{}, nil, err
	}
	c, err := parseBytes(args[2])
	if err != nil || len(c) != blob.CommitmentSize {
		return 0, share.Namespace{}, nil, fmt.Errorf("commitment %q is not 32 bytes of hex or base64", args[2])
	}
	return h, ns, c, nil
}

func newHeaderCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "header", Short: "Read headers through a node's RPC"}
	f.add(cmd)
	head := &cobra.Command{
		Use: "head", Short: "Print the node's newest header", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var h json.RawMessage
			if err := f.call(cmd, "header.LocalHead", &h); err != nil {
				return err
			}
			return printIndented(cmd.OutOrStdout(), h)
		},
	}
	get := &cobra.Command{
		Use: "get HEIGHT", Short: "Print the header at HEIGHT", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := parseHeight(args[0])
			if err != nil {
				return err
			}
			var out json.RawMessage
			if err := f.call(cmd, "header.GetByHeight", &out, h); err != nil {
				return err
			}
			return printIndented(cmd.OutOrStdout(), out)
		},
	}
	cmd.AddCommand(head, get)
	return cmd
}

func printIndented(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, buf.String())
	return err
}

func newShareCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{Use: "share", Short: "Sample shares through a node's RPC"}
	f.add(cmd)
	sample := &cobra.Command{
		Use:   "sample HEIGHT ROW COL",
		Short: "Fetch one share with its proof and verify it against the header's data root alone",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := parseHeight(args[0])
			if err != nil {
				return err
			}
			row, err1 := strconv.Atoi(args[1])
			col, err2 := strconv.Atoi(args[2])
			if err1 != nil || err2 != nil {
				return fmt.Errorf("row and col must be integers")
			}
			eh, err := f.header(cmd, h)
			if err != nil {
				return err
			}
			var smps []api.SampleJSON
			if err := f.call(cmd, "share.GetSamples", &smps, h, []api.Coord{{Row: row, Col: col}}); err != nil {
				return err
			}
			if len(smps) != 1 {
				return fmt.Errorf("node returned %d samples for 1 coordinate", len(smps))
			}
			width := 2 * int(eh.Tessera.SquareWidth)
			if err := smps[0].Verify(eh.Tessera.DataRoot[:], width, row, col); err != nil {
				return fmt.Errorf("sample (%d, %d) at height %d does NOT verify: %w", row, col, h, err)
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{"height": h, "row": row, "col": col, "verified": true, "share": smps[0].Share})
		},
	}
	cmd.AddCommand(sample)
	return cmd
}
