package sampling

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the scenario transcripts in testdata/machine")

// TestMachineScenarios replays the scripts in testdata/machine, etcd-raft
// style. Lines starting with "> " are commands; the lines after each
// command are what it printed. Run with -update to rewrite the output
// after a deliberate change, and read the diff.
//
// Commands:
//
//	params key=value...   new machine (keys: samples window inflight catchup retries deadline attempts backoff)
//	header H [k=K]        AddHeader (the height's k is remembered; default 2)
//	ready                 print Ready, then Advance
//	supply [H...]         AddHeader for the heights asked for since the last supply (or those given)
//	ok H [n=N]            report the first N (default all) outstanding coordinates of H verified
//	fail H [n=N]          report them failed
//	late H ok|fail        report the coordinates of H's previous (stale) request verified or failed
//	tick [N]              Tick N times (default 1)
//	fraud H               MarkFraud
//	stats                 print Stats
//	restart               encode and parse the checkpoint, start a new machine from it
func TestMachineScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/machine/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := runScript(t, string(in))
			if *update {
				if err := os.WriteFile(f, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(in) {
				t.Errorf("transcript differs (run with -update and read the diff):\n%s", diffLines(string(in), got))
			}
		})
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, a, b)
		}
	}
	return ""
}

// harness drives a Machine the way a driver would, from a script.
type harness struct {
	t      *testing.T
	p      Params
	m      *Machine
	ks     map[uint64]int
	asked  []uint64
	out    map[uint64][]pending // outstanding coordinates by height
	prev   map[uint64][]pending // the request before the current one, for "late"
	output strings.Builder
}

type pending struct {
	r Request
	c Coord
}

func testRoot(h uint64) (r [32]byte) {
	return sha256.Sum256(binary.BigEndian.AppendUint64(nil, h))
}

func runScript(t *testing.T, script string) string {
	h := &harness{t: t, ks: map[uint64]int{}, out: map[uint64][]pending{}, prev: map[uint64][]pending{}}
	for _, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
		if !strings.HasPrefix(line, "> ") {
			if strings.HasPrefix(line, "#") || line == "" {
				h.output.WriteString(line + "\n")
			}
			continue
		}
		h.output.WriteString(line + "\n")
		h.run(strings.Fields(line[2:]))
	}
	return h.output.String()
}

func (h *harness) printf(f string, args ...any) { fmt.Fprintf(&h.output, f+"\n", args...) }

func (h *harness) run(args []string) {
	t := h.t
	num := func(s string) uint64 {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("bad number %q", s)
		}
		return n
	}
	kv := func(args []string, key string, def uint64) uint64 {
		for _, a := range args {
			if k, v, ok := strings.Cut(a, "="); ok && k == key {
				return num(v)
			}
		}
		return def
	}
	switch args[0] {
	case "params":
		p := DefaultParams()
		p.Samples = int(kv(args, "samples", 4))
		p.Window = kv(args, "window", 1000)
		p.MaxInFlight = int(kv(args, "inflight", 3))
		p.MaxCatchUp = int(kv(args, "catchup", 2))
		p.Retries = int(kv(args, "retries", 1))
		p.Deadline = kv(args, "deadline", 3)
		p.MaxAttempts = int(kv(args, "attempts", 1))
		p.RetryBackoff = kv(args, "backoff", 0)
		h.p = p
		m, err := NewMachine(p, &counterReader{}, nil)
		if err != nil {
			h.printf("error: %v", err)
			return
		}
		h.m = m
	case "header":
		ht := num(args[1])
		k := int(kv(args[2:], "k", 2))
		h.ks[ht] = k
		if err := h.m.AddHeader(Header{Height: ht, DataRoot: testRoot(ht), K: k}); err != nil {
			h.printf("error: %v", err)
		}
	case "supply":
		hs := h.asked
		h.asked = nil
		if len(args) > 1 {
			hs = nil
			for _, a := range args[1:] {
				hs = append(hs, num(a))
			}
		}
		for _, ht := range hs {
			k := h.ks[ht]
			if k == 0 {
				k = 2
			}
			if err := h.m.AddHeader(Header{Height: ht, DataRoot: testRoot(ht), K: k}); err != nil {
				h.printf("error: %v", err)
			}
		}
	case "ready":
		rd := h.m.Ready()
		h.printReady(rd)
		h.asked = append(h.asked, rd.Headers...)
		for _, r := range rd.Requests {
			if len(h.out[r.Height]) > 0 {
				h.prev[r.Height] = h.out[r.Height]
			}
			for _, c := range r.Coords {
				h.out[r.Height] = append(h.out[r.Height], pending{r, c})
			}
		}
		h.m.Advance()
	case "ok", "fail":
		ht := num(args[1])
		ps := h.out[ht]
		n := int(kv(args[2:], "n", uint64(len(ps))))
		n = min(n, len(ps))
		for _, p := range ps[:n] {
			if args[0] == "ok" {
				h.m.Sampled(p.r, p.c, true, nil)
			} else {
				h.m.Sampled(p.r, p.c, false, errors.New("not found"))
			}
		}
		h.out[ht] = ps[n:]
	case "late":
		ht := num(args[1])
		for _, p := range h.prev[ht] {
			h.m.Sampled(p.r, p.c, args[2] == "ok", errors.New("late failure"))
		}
	case "tick":
		n := uint64(1)
		if len(args) > 1 {
			n = num(args[1])
		}
		for range n {
			h.m.Tick()
		}
	case "fraud":
		h.m.MarkFraud(num(args[1]))
	case "stats":
		s := h.m.Stats()
		h.printf("stats: sampled=%d catchup=%d head=%d concurrency=%d done=%v fraud=%d failed=%s",
			s.SampledHead, s.CatchUpHead, s.NetworkHead, s.Concurrency, s.CatchUpDone, s.FraudHeight, fmtFailed(s.Failed))
		for _, w := range s.Workers {
			h.printf("  worker %s h=%d %d/%d %s", w.Kind, w.Height, w.Verified, w.Samples, w.Err)
		}
	case "restart":
		b, err := h.m.Checkpoint().MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		cp, err := ParseCheckpoint(b)
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewMachine(h.p, &counterReader{n: 1000}, cp)
		if err != nil {
			h.printf("error: %v", err)
			return
		}
		h.m = m
		h.out = map[uint64][]pending{}
		h.prev = map[uint64][]pending{}
	default:
		t.Fatalf("unknown command %q", args[0])
	}
}

func fmtFailed(f map[uint64]int) string {
	var parts []string
	for _, h := range slices.Sorted(maps.Keys(f)) {
		parts = append(parts, fmt.Sprintf("%d:%d", h, f[h]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func (h *harness) printReady(rd Ready) {
	if rd.Empty() {
		h.printf("(empty)")
		return
	}
	if len(rd.Headers) > 0 {
		h.printf("headers: %v", rd.Headers)
	}
	for _, r := range rd.Requests {
		cs := make([]string, len(r.Coords))
		for i, c := range r.Coords {
			cs[i] = fmt.Sprintf("(%d,%d)", c.Row, c.Col)
		}
		h.printf("request #%d h=%d w=%d %s", r.ID, r.Height, r.Width, strings.Join(cs, " "))
	}
	for _, d := range rd.Done {
		s := fmt.Sprintf("done h=%d available=%v confidence=%.4f sampled=%d", d.Height, d.Available, d.Confidence, d.Sampled)
		if d.Fraud {
			s += " fraud"
		}
		if d.Err != nil {
			s += " err=" + d.Err.Error()
		}
		h.printf("%s", s)
	}
	if cp := rd.Checkpoint; cp != nil {
		h.printf("checkpoint: sampled=%d head=%d done=%v failed=%s in-progress=%v fraud=%d",
			cp.SampledHead, cp.NetworkHead, cp.Done, fmtFailed(cp.Failed), cp.InProgress, cp.FraudHeight)
	}
}
