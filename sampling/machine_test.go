package sampling

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func TestParamsValidate(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tt := range []struct {
		name string
		mod  func(*Params)
	}{
		{"no samples", func(p *Params) { p.Samples = 0 }},
		{"too many samples", func(p *Params) { p.Samples = MaxSamples + 1 }},
		{"no window", func(p *Params) { p.Window = 0 }},
		{"one slot", func(p *Params) { p.MaxInFlight, p.MaxCatchUp = 1, 1 }},
		{"too many slots", func(p *Params) { p.MaxInFlight = MaxInFlight + 1 }},
		{"no catch-up", func(p *Params) { p.MaxCatchUp = 0 }},
		{"no slot left for the head", func(p *Params) { p.MaxCatchUp = p.MaxInFlight }},
		{"negative retries", func(p *Params) { p.Retries = -1 }},
		{"too many retries", func(p *Params) { p.Retries = MaxRetries + 1 }},
		{"no deadline", func(p *Params) { p.Deadline = 0 }},
		{"no attempts", func(p *Params) { p.MaxAttempts = 0 }},
		{"retries without backoff", func(p *Params) { p.MaxAttempts, p.RetryBackoff = 2, 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParams()
			tt.mod(&p)
			if err := p.Validate(); !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("accepted: %v", err)
			}
			if _, err := NewMachine(p, &counterReader{}, nil); !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("NewMachine accepted: %v", err)
			}
		})
	}
	if _, err := NewMachine(DefaultParams(), nil, nil); !errors.Is(err, ErrInvalidParams) {
		t.Fatal("nil randomness accepted")
	}
}

func TestAddHeaderRejects(t *testing.T) {
	m, _ := NewMachine(DefaultParams(), &counterReader{}, nil)
	for _, h := range []Header{{Height: 0, K: 2}, {Height: 1, K: 0}, {Height: 1, K: 3}, {Height: 1, K: 1024}} {
		if err := m.AddHeader(h); !errors.Is(err, ErrInvalidHeader) {
			t.Errorf("%+v accepted: %v", h, err)
		}
	}
	// A conflicting header for a height being sampled.
	if err := m.AddHeader(Header{Height: 1, K: 2, DataRoot: testRoot(1)}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddHeader(Header{Height: 1, K: 2, DataRoot: testRoot(2)}); !errors.Is(err, ErrInvalidHeader) {
		t.Fatalf("conflicting header accepted: %v", err)
	}
}

// A randomness source that fails stops scheduling and is reported by Err.
func TestMachineRandomnessFailure(t *testing.T) {
	m, _ := NewMachine(DefaultParams(), bytes.NewReader(nil), nil)
	if err := m.AddHeader(Header{Height: 1, K: 4}); err != nil {
		t.Fatal(err)
	}
	if m.Err() == nil {
		t.Fatal("no error after the randomness source failed")
	}
	if rd := m.Ready(); len(rd.Requests) != 0 || len(rd.Done) != 0 {
		t.Fatalf("outputs after failure: %+v", rd)
	}
}

// Ready without Advance repeats itself; outputs produced between Ready
// and Advance are kept for the next Ready.
func TestReadyAdvance(t *testing.T) {
	p := DefaultParams()
	p.Samples = 2
	m, _ := NewMachine(p, &counterReader{}, nil)
	_ = m.AddHeader(Header{Height: 1, K: 2})
	a, b := m.Ready(), m.Ready()
	if !reflect.DeepEqual(a, b) || len(a.Requests) != 1 {
		t.Fatalf("Ready not stable: %+v vs %+v", a, b)
	}
	for _, c := range a.Requests[0].Coords {
		m.Sampled(a.Requests[0], c, true, nil)
	}
	m.Advance()
	rd := m.Ready()
	if len(rd.Requests) != 0 || len(rd.Done) != 1 || !rd.Done[0].Available || rd.Checkpoint == nil {
		t.Fatalf("result produced between Ready and Advance lost: %+v", rd)
	}
	m.Advance()
	if m.HasReady() || !m.Ready().Empty() {
		t.Fatal("Ready not empty after Advance")
	}
}

// Honest peers: every height of the window becomes available with
// Confidence(k, s), the head first, catch-up concurrency bounded.
func TestMachineHonestCatchUp(t *testing.T) {
	for _, tt := range []struct{ k, s int }{{1, 16}, {2, 16}, {4, 16}, {64, 16}, {128, 32}} {
		t.Run(fmt.Sprintf("k=%d,s=%d", tt.k, tt.s), func(t *testing.T) {
			p := DefaultParams()
			p.Samples = tt.s
			m, _ := NewMachine(p, &counterReader{}, nil)
			const head = 200
			if err := m.AddHeader(Header{Height: head, K: tt.k, DataRoot: testRoot(head)}); err != nil {
				t.Fatal(err)
			}
			results := map[uint64]Result{}
			first := true
			for steps := 0; !m.CatchUpDone(); steps++ {
				if steps > 10*head {
					t.Fatal("no progress")
				}
				rd := m.Ready()
				if first && (len(rd.Requests) == 0 || rd.Requests[0].Height != head) {
					t.Fatalf("head not requested first: %+v", rd.Requests)
				}
				first = false
				m.Advance()
				if s := m.Stats(); s.Concurrency > p.MaxInFlight {
					t.Fatalf("%d heights in flight", s.Concurrency)
				}
				for _, h := range rd.Headers {
					_ = m.AddHeader(Header{Height: h, K: tt.k, DataRoot: testRoot(h)})
				}
				for _, r := range rd.Requests {
					for _, c := range r.Coords {
						m.Sampled(r, c, true, nil)
					}
				}
				for _, d := range rd.Done {
					results[d.Height] = d
				}
			}
			for _, d := range m.Ready().Done {
				results[d.Height] = d
			}
			want := Confidence(tt.k, tt.s)
			if w := 2 * tt.k; tt.s >= w*w {
				want = 1
			}
			for h := uint64(1); h <= head; h++ {
				r, ok := results[h]
				if !ok || !r.Available || r.Confidence != want || r.Sampled != min(tt.s, 4*tt.k*tt.k) {
					t.Fatalf("height %d: %+v (present %v), want confidence %v", h, r, ok, want)
				}
			}
			if s := m.Stats(); s.SampledHead != head || len(s.Failed) != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// sim is a randomised driver used by the property tests.
type sim struct {
	t        *testing.T
	rng      *rand.Rand
	p        Params
	m        *Machine
	ks       map[uint64]int
	missing  map[uint64]func(Coord) bool // nil: every cell served
	head     uint64
	asked    []uint64
	out      []pending
	verified map[uint64]map[Coord]bool // coordinates reported verified since the height's last Done
	round    map[uint64]map[Coord]bool // coordinates requested since the height's last Done
	avail    map[uint64]bool           // heights reported available (and not retracted by fraud)
	results  map[uint64]Result
	fraud    uint64
	restarts int
}

func newSim(t *testing.T, seed uint64) *sim {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := Params{
		Samples:      1 + rng.IntN(6),
		Window:       uint64(5 + rng.IntN(60)),
		MaxInFlight:  2 + rng.IntN(4),
		Retries:      rng.IntN(3),
		Deadline:     uint64(1 + rng.IntN(4)),
		MaxAttempts:  1 + rng.IntN(3),
		RetryBackoff: uint64(1 + rng.IntN(5)),
	}
	p.MaxCatchUp = 1 + rng.IntN(p.MaxInFlight-1)
	m, err := NewMachine(p, &counterReader{n: seed << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &sim{
		t: t, rng: rng, p: p, m: m,
		ks: map[uint64]int{}, missing: map[uint64]func(Coord) bool{},
		verified: map[uint64]map[Coord]bool{}, round: map[uint64]map[Coord]bool{},
		avail: map[uint64]bool{}, results: map[uint64]Result{},
	}
}

func (s *sim) header(h uint64) Header {
	if s.ks[h] == 0 {
		s.ks[h] = 1 << s.rng.IntN(4)
		switch s.rng.IntN(5) {
		case 0: // withheld: most cells missing
			s.missing[h] = func(c Coord) bool { return (c.Row+c.Col)%4 != 0 }
		case 1: // withheld entirely
			s.missing[h] = func(Coord) bool { return true }
		}
	}
	return Header{Height: h, K: s.ks[h], DataRoot: testRoot(h)}
}

func (s *sim) step() {
	switch op := s.rng.IntN(20); {
	case op < 2: // a new head, sometimes skipping heights
		s.head += 1 + uint64(s.rng.IntN(3))
		if err := s.m.AddHeader(s.header(s.head)); err != nil {
			s.t.Fatal(err)
		}
	case op < 5:
		s.m.Tick()
	case op < 8: // supply asked headers, some late, some never
		for _, h := range s.asked {
			if s.rng.IntN(8) != 0 {
				if err := s.m.AddHeader(s.header(h)); err != nil {
					s.t.Fatal(err)
				}
			}
		}
		s.asked = nil
	case op < 15: // answer some outstanding coordinates
		s.rng.Shuffle(len(s.out), func(i, j int) { s.out[i], s.out[j] = s.out[j], s.out[i] })
		n := s.rng.IntN(len(s.out) + 1)
		for _, p := range s.out[:n] {
			miss := s.missing[p.r.Height] != nil && s.missing[p.r.Height](p.c)
			switch {
			case miss || s.rng.IntN(10) == 0: // withheld, or a bad sample rejected by the driver
				s.m.Sampled(p.r, p.c, false, errors.New("bad"))
			case s.rng.IntN(10) == 0: // dropped: left to time out
			default:
				if s.verified[p.r.Height] == nil {
					s.verified[p.r.Height] = map[Coord]bool{}
				}
				s.verified[p.r.Height][p.c] = true
				s.m.Sampled(p.r, p.c, true, nil)
			}
		}
		s.out = s.out[n:]
	case op < 18:
		s.ready()
	case op < 19: // restart from an encoded checkpoint
		s.ready()
		b, err := s.m.Checkpoint().MarshalBinary()
		if err != nil {
			s.t.Fatalf("checkpoint: %v", err)
		}
		cp, err := ParseCheckpoint(b)
		if err != nil {
			s.t.Fatalf("checkpoint round trip: %v", err)
		}
		if s.m, err = NewMachine(s.p, &counterReader{n: uint64(s.restarts+1) << 40}, cp); err != nil {
			s.t.Fatalf("restart: %v", err)
		}
		s.restarts++
		s.out, s.asked = nil, nil
		s.round = map[uint64]map[Coord]bool{}
	default:
		if s.rng.IntN(4) == 0 && s.head > 0 {
			h := 1 + s.rng.Uint64N(s.head)
			s.m.MarkFraud(h)
			if s.fraud == 0 || h < s.fraud {
				s.fraud = h
			}
		}
	}
	s.check()
}

func (s *sim) ready() {
	rd := s.m.Ready()
	s.m.Advance()
	s.asked = append(s.asked, rd.Headers...)
	// Done first: a Ready can hold a finished round's verdict and the
	// first requests of the height's next round.
	for _, d := range rd.Done {
		h := d.Height
		if d.Available {
			w := 2 * s.ks[h]
			want := min(s.p.Samples, w*w)
			if len(s.round[h]) != want {
				s.t.Fatalf("height %d available after a round of %d coordinates, want %d", h, len(s.round[h]), want)
			}
			for c := range s.round[h] {
				if !s.verified[h][c] {
					s.t.Fatalf("height %d available without a verified sample at %v", h, c)
				}
				if s.missing[h] != nil && s.missing[h](c) {
					s.t.Fatalf("height %d available with withheld cell %v", h, c)
				}
			}
			if d.Sampled != want || d.Confidence < 0 || d.Confidence > 1 {
				s.t.Fatalf("result %+v", d)
			}
			if s.fraud != 0 && h >= s.fraud {
				s.t.Fatalf("height %d available at or after fraud height %d", h, s.fraud)
			}
			s.avail[h] = true
		} else if d.Confidence != 0 {
			s.t.Fatalf("unavailable with confidence: %+v", d)
		}
		s.results[h] = d
		delete(s.round, h)
		delete(s.verified, h)
	}
	for _, r := range rd.Requests {
		if s.avail[r.Height] {
			s.t.Fatalf("height %d requested again after it was found available", r.Height)
		}
		if s.fraud != 0 && r.Height >= s.fraud {
			s.t.Fatalf("height %d requested at or after fraudulent height %d", r.Height, s.fraud)
		}
		if r.DataRoot != testRoot(r.Height) || r.Width != 2*s.ks[r.Height] {
			s.t.Fatalf("request %+v for the wrong header", r)
		}
		if s.round[r.Height] == nil {
			s.round[r.Height] = map[Coord]bool{}
		}
		for _, c := range r.Coords {
			s.round[r.Height][c] = true
			s.out = append(s.out, pending{r, c})
		}
	}
}

func (s *sim) check() {
	cp := s.m.Checkpoint()
	if err := cp.Validate(); err != nil {
		s.t.Fatalf("invalid checkpoint %+v: %v", cp, err)
	}
	st := s.m.Stats()
	catchUp := 0
	for _, w := range st.Workers {
		if w.Kind != JobRecent {
			catchUp++
		}
		if w.Height < s.m.floor() {
			s.t.Fatalf("height %d below the window floor %d in flight", w.Height, s.m.floor())
		}
	}
	if st.Concurrency > s.p.MaxInFlight || catchUp > s.p.MaxCatchUp {
		s.t.Fatalf("%d heights in flight (%d catching up), limits %d/%d", st.Concurrency, catchUp, s.p.MaxInFlight, s.p.MaxCatchUp)
	}
	for h := range cp.Failed {
		if s.avail[h] {
			s.t.Fatalf("height %d both available and failed", h)
		}
	}
}

// Property: no height is ever reported available unless every one of its
// s distinct coordinates was reported verified; withheld cells are never
// among them; heights found available are never sampled again, across
// restarts; fraud stops everything at and after the fraudulent height.
func TestMachineProperties(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			s := newSim(t, seed)
			for range 400 {
				s.step()
			}
		})
	}
}

// Property: a machine that is only ever answered honestly, promptly and
// fully finishes catch-up with every height available.
func TestMachineLiveness(t *testing.T) {
	for seed := range uint64(100) {
		s := newSim(t, seed)
		s.missing = map[uint64]func(Coord) bool{}
		s.p.MaxAttempts = 1
		s.head = uint64(1 + s.rng.IntN(100))
		for h := uint64(1); h <= s.head; h++ {
			s.ks[h] = 1 << s.rng.IntN(4)
		}
		_ = s.m.AddHeader(s.header(s.head))
		for steps := 0; !s.m.CatchUpDone(); steps++ {
			if steps > 10_000 {
				t.Fatalf("seed %d: stuck: %+v", seed, s.m.Stats())
			}
			s.ready()
			for _, h := range s.asked {
				_ = s.m.AddHeader(s.header(h))
			}
			s.asked = nil
			for _, p := range s.out {
				if s.verified[p.r.Height] == nil {
					s.verified[p.r.Height] = map[Coord]bool{}
				}
				s.verified[p.r.Height][p.c] = true
				s.m.Sampled(p.r, p.c, true, nil)
			}
			s.out = nil
		}
		s.ready()
		fl := s.m.floor()
		for h := fl; h <= s.head; h++ {
			if !s.results[h].Available {
				t.Fatalf("seed %d: height %d: %+v", seed, h, s.results[h])
			}
		}
		if st := s.m.Stats(); st.SampledHead != s.head || len(st.Failed) != 0 || st.Concurrency != 0 {
			t.Fatalf("seed %d: %+v", seed, st)
		}
	}
}

// Restarting from a checkpoint taken mid-catch-up samples no finished
// height again and finishes the rest.
func TestMachineRestartNoResampling(t *testing.T) {
	p := DefaultParams()
	p.Samples = 4
	m, _ := NewMachine(p, &counterReader{}, nil)
	_ = m.AddHeader(Header{Height: 100, K: 4, DataRoot: testRoot(100)})
	done := map[uint64]bool{}
	drive := func(m *Machine, stopAfter int) {
		for n := 0; !m.CatchUpDone() && (stopAfter < 0 || n < stopAfter); n++ {
			rd := m.Ready()
			m.Advance()
			for _, h := range rd.Headers {
				_ = m.AddHeader(Header{Height: h, K: 4, DataRoot: testRoot(h)})
			}
			for _, r := range rd.Requests {
				if done[r.Height] {
					t.Fatalf("height %d sampled again", r.Height)
				}
				for _, c := range r.Coords {
					m.Sampled(r, c, true, nil)
				}
			}
			for _, d := range rd.Done {
				done[d.Height] = true
			}
		}
	}
	drive(m, 15)
	if len(done) < 10 || len(done) > 60 {
		t.Fatalf("%d heights done before the restart", len(done))
	}
	rd := m.Ready() // the driver persists Done results, then the checkpoint
	for _, d := range rd.Done {
		done[d.Height] = true
	}
	cp0 := rd.Checkpoint
	if cp0 == nil { // unchanged since the last Ready, which the driver persisted
		cp0 = m.Checkpoint()
	}
	b, _ := cp0.MarshalBinary()
	cp, err := ParseCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := NewMachine(p, &counterReader{n: 1 << 30}, cp)
	if err != nil {
		t.Fatal(err)
	}
	before := len(done)
	drive(m2, -1)
	for _, d := range m2.Ready().Done {
		done[d.Height] = true
	}
	if len(done) != 100 {
		var missing []uint64
		for h := uint64(1); h <= 100; h++ {
			if !done[h] {
				missing = append(missing, h)
			}
		}
		t.Fatalf("%d heights done after the restart (%d before), missing %v, checkpoint %+v", len(done), before, missing, cp)
	}
}

func randomCheckpoint(rng *rand.Rand) *Checkpoint {
	head := rng.Uint64N(1 << uint(rng.IntN(64)))
	cp := &Checkpoint{NetworkHead: head}
	if head == 0 {
		return cp
	}
	cp.SampledHead = rng.Uint64N(head + 1)
	if rng.IntN(3) == 0 {
		cp.FraudHeight = 1 + rng.Uint64N(head)
	}
	ok := func(h uint64) bool { return cp.FraudHeight == 0 || h < cp.FraudHeight }
	used := map[uint64]bool{}
	for range rng.IntN(20) {
		h := 1 + rng.Uint64N(head)
		if !ok(h) || used[h] {
			continue
		}
		used[h] = true
		if cp.Failed == nil {
			cp.Failed = map[uint64]int{}
		}
		cp.Failed[h] = 1 + rng.IntN(5)
	}
	if cp.SampledHead < head {
		for range rng.IntN(20) {
			h := cp.SampledHead + 1 + rng.Uint64N(head-cp.SampledHead)
			if !ok(h) || used[h] {
				continue
			}
			used[h] = true
			if rng.IntN(2) == 0 {
				cp.Done = append(cp.Done, h)
			} else {
				cp.InProgress = append(cp.InProgress, h)
			}
		}
	}
	slices.Sort(cp.Done)
	slices.Sort(cp.InProgress)
	return cp
}

// Property: checkpoints survive encoding unchanged, and every single-byte
// change or truncation of an encoding is rejected or decodes to a
// different valid checkpoint (never to a panic).
func TestCheckpointRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		cp := randomCheckpoint(rng)
		if err := cp.Validate(); err != nil {
			t.Fatalf("%d: generator made an invalid checkpoint: %v", i, err)
		}
		b, err := cp.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseCheckpoint(b)
		if err != nil {
			t.Fatalf("%d: %+v: %v", i, cp, err)
		}
		if !reflect.DeepEqual(back, cp) {
			t.Fatalf("%d: round trip\n got %+v\nwant %+v", i, back, cp)
		}
		for j := range len(b) {
			if _, err := ParseCheckpoint(b[:j]); err == nil {
				t.Fatalf("%d: truncation to %d bytes accepted", i, j)
			}
		}
	}
}

func TestCheckpointRejects(t *testing.T) {
	good := &Checkpoint{SampledHead: 10, NetworkHead: 20, Done: []uint64{12, 15}, Failed: map[uint64]int{5: 1, 13: 2}, InProgress: []uint64{11}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	enc, _ := good.MarshalBinary()
	for _, tt := range []struct {
		name string
		mod  func(*Checkpoint)
	}{
		{"sampled above head", func(c *Checkpoint) { c.SampledHead = 21 }},
		{"done at sampled head", func(c *Checkpoint) { c.Done = []uint64{10} }},
		{"done above head", func(c *Checkpoint) { c.Done = []uint64{21} }},
		{"done unsorted", func(c *Checkpoint) { c.Done = []uint64{15, 12} }},
		{"done repeated", func(c *Checkpoint) { c.Done = []uint64{12, 12} }},
		{"done and failed", func(c *Checkpoint) { c.Done = []uint64{13} }},
		{"done and in progress", func(c *Checkpoint) { c.InProgress = []uint64{12} }},
		{"in progress below", func(c *Checkpoint) { c.InProgress = []uint64{3} }},
		{"failed height 0", func(c *Checkpoint) { c.Failed[0] = 1 }},
		{"failed above head", func(c *Checkpoint) { c.Failed[30] = 1 }},
		{"failed zero rounds", func(c *Checkpoint) { c.Failed[5] = 0 }},
		{"done after fraud", func(c *Checkpoint) { c.FraudHeight = 14 }},
		{"failed after fraud", func(c *Checkpoint) { c.FraudHeight = 6; c.Done, c.InProgress = nil, nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := *good
			c.Failed = map[uint64]int{5: 1, 13: 2}
			tt.mod(&c)
			if err := c.Validate(); !errors.Is(err, ErrInvalidCheckpoint) {
				t.Fatalf("accepted: %v", err)
			}
			if _, err := c.MarshalBinary(); err == nil {
				t.Fatal("encoded")
			}
			if _, err := NewMachine(DefaultParams(), &counterReader{}, &c); err == nil {
				t.Fatal("machine resumed from it")
			}
		})
	}
	for name, b := range map[string][]byte{
		"empty":          nil,
		"version":        append([]byte{2}, enc[1:]...),
		"trailing":       append(slices.Clone(enc), 0),
		"overlong":       {1, 0x80, 0x00, 0, 0, 0, 0, 0},
		"huge count":     {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"zero gap":       {1, 0, 5, 0, 1, 0, 0, 0},
		"overflow gap":   {1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 1, 0},
		"rounds > limit": {1, 0, 5, 0, 0, 1, 1, 0x80, 0x80, 0x80, 0x01, 0},
	} {
		if _, err := ParseCheckpoint(b); !errors.Is(err, ErrInvalidCheckpoint) {
			t.Errorf("%s: accepted: %v", name, err)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		b, _ := randomCheckpoint(rng).MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := ParseCheckpoint(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidCheckpoint) {
				t.Fatalf("error %v does not wrap ErrInvalidCheckpoint", err)
			}
			return
		}
		again, err := cp.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical encoding: %v", err)
		}
		// A parsed checkpoint is always a valid place to resume from.
		m, err := NewMachine(DefaultParams(), &counterReader{}, cp)
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
		if err := m.Checkpoint().Validate(); err != nil {
			t.Fatalf("resumed machine's checkpoint: %v", err)
		}
	})
}

// A light node samples a new head: four coordinates of a k = 4 square,
// each verified by the driver, give Confidence(4, 4).
func ExampleMachine() {
	p := DefaultParams()
	p.Samples = 4
	m, _ := NewMachine(p, &counterReader{}, nil) // crypto/rand.Reader in production
	_ = m.AddHeader(Header{Height: 1, K: 4})

	rd := m.Ready()
	m.Advance()
	r := rd.Requests[0]
	fmt.Printf("request: height %d, %d coordinates of a %d-wide square\n", r.Height, len(r.Coords), r.Width)
	for _, c := range r.Coords {
		// The driver fetches the sample and checks it with
		// erasure.VerifySample(r.DataRoot[:], r.Width, c.Row, c.Col, smp).
		m.Sampled(r, c, true, nil)
	}
	rd = m.Ready()
	m.Advance()
	d := rd.Done[0]
	fmt.Printf("height %d available=%v confidence=%.4f\n", d.Height, d.Available, d.Confidence)
	// Output:
	// request: height 1, 4 coordinates of a 8-wide square
	// height 1 available=true confidence=0.8621
}

// A report whose request names another data root or width than the
// header being sampled is ignored, verified or not.
func TestSampledForeignRequest(t *testing.T) {
	p := DefaultParams()
	p.Samples = 2
	m, _ := NewMachine(p, &counterReader{}, nil)
	_ = m.AddHeader(Header{Height: 1, K: 4, DataRoot: testRoot(1)})
	r := m.Ready().Requests[0]
	m.Advance()
	for _, forge := range []func(*Request){
		func(r *Request) { r.DataRoot = testRoot(2) },
		func(r *Request) { r.Width = 16 },
	} {
		f := r
		forge(&f)
		for _, c := range r.Coords {
			m.Sampled(f, c, true, nil)
		}
	}
	if s := m.Stats(); len(s.Workers) != 1 || s.Workers[0].Verified != 0 {
		t.Fatalf("foreign reports counted: %+v", s)
	}
}
