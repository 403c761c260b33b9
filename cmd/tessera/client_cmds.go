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

func (f *clientFlags) call(cmd *cobra.Command, method string, result any, params ...any) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	c, err := dialRPC(ctx, f)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Call(ctx, method, result, params...)
}

// dialRPC connects to the node the flags name.
func dialRPC(ctx context.Context, f *clientFlags) (*rpc.Client, error) {
	return rpc.Dial(ctx, f.url, f.token)
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
			var b blob.Blob
			if err := f.call(cmd, "blob.Get", &b, h, ns, c); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), &b)
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
			var bs []*blob.Blob
			if err := f.call(cmd, "blob.GetAll", &bs, h, nss); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), bs)
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
