package sampling

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/tessera-da/tessera/erasure"
)

// Errors of the sampling state machine.
var (
	// ErrInvalidHeader reports a header given to Machine.AddHeader that
	// cannot be sampled (height 0, a width that is not a power of two) or
	// that conflicts with the header already held for its height.
	ErrInvalidHeader = errors.New("sampling: invalid header")
	// ErrInvalidCheckpoint reports a checkpoint that fails to parse or
	// breaks its invariants.
	ErrInvalidCheckpoint = errors.New("sampling: invalid checkpoint")
	// ErrTimeout is the failure the machine records for a coordinate whose
	// request got no answer within Params.Deadline ticks.
	ErrTimeout = errors.New("sampling: request timed out")
	// ErrNoHeader is the state reported (Stats) for a height whose header
	// the driver has not supplied within Params.Deadline ticks; the header
	// is asked for again every Deadline ticks.
	ErrNoHeader = errors.New("sampling: waiting for the header")
	// ErrFraud is the reason given for a height marked fraudulent.
	ErrFraud = errors.New("sampling: fraud proven")
)

// Limits of the machine's parameters.
const (
	MaxInFlight  = 4096    // heights sampled at once
	MaxRetries   = 64      // extra attempts per coordinate
	MaxAttempts  = 1 << 16 // sampling rounds per height
	maxFailCount = 1 << 20 // largest failure count a checkpoint may hold
)

// Params configures a Machine. Times are in logical ticks: the driver calls
// Machine.Tick at a fixed rate and converts durations to ticks.
type Params struct {
	// Samples is s, the distinct random cells sampled per height (1 to
	// MaxSamples). A square with fewer cells is sampled whole. Use
	// SamplesFor to derive it from a target confidence.
	Samples int
	// Window is the number of heights, ending at the network head, that are
	// sampled (heights): heights at or below head − Window are skipped.
	Window uint64
	// MaxInFlight bounds the heights sampled at once, head included
	// (heights, 2 to MaxInFlight).
	MaxInFlight int
	// MaxCatchUp bounds the catch-up and retry heights among them
	// (heights, 1 to MaxInFlight−1): at least one slot is always left for
	// a new head.
	MaxCatchUp int
	// Retries is the number of times a coordinate that failed (bad sample,
	// not served, timed out) is asked for again before its height is
	// declared unavailable (0 to MaxRetries). A failed coordinate is never
	// replaced by another one.
	Retries int
	// Deadline is how long a request, or a wait for a header, may take
	// before it counts as failed (ticks, ≥ 1).
	Deadline uint64
	// MaxAttempts is the number of sampling rounds a height gets before an
	// unavailable verdict is final (1 to MaxAttempts). Each new round picks
	// fresh coordinates; 1 means unavailable heights are never sampled again.
	MaxAttempts int
	// RetryBackoff is the wait before an unavailable height is sampled
	// again, multiplied by the rounds it has failed (ticks; ≥ 1 when
	// MaxAttempts > 1).
	RetryBackoff uint64
}

// DefaultParams returns 16 samples per height (99 % confidence at any
// width), a window of 30 days of one-second blocks, 10 heights at once of
// which 8 catch up, 2 retries per coordinate, a 20-tick deadline, and 3
// rounds per height 600 ticks apart.
func DefaultParams() Params {
	return Params{
		Samples:      16,
		Window:       30 * 24 * 3600,
		MaxInFlight:  10,
		MaxCatchUp:   8,
		Retries:      2,
		Deadline:     20,
		MaxAttempts:  3,
		RetryBackoff: 600,
	}
}

// Validate reports whether p is usable; errors wrap ErrInvalidParams.
func (p Params) Validate() error {
	bad := func(f string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidParams, fmt.Sprintf(f, args...))
	}
	switch {
	case p.Samples < 1 || p.Samples > MaxSamples:
		return bad("Samples = %d, want 1..%d", p.Samples, MaxSamples)
	case p.Window < 1:
		return bad("Window = 0, want ≥ 1")
	case p.MaxInFlight < 2 || p.MaxInFlight > MaxInFlight:
		return bad("MaxInFlight = %d, want 2..%d", p.MaxInFlight, MaxInFlight)
	case p.MaxCatchUp < 1 || p.MaxCatchUp >= p.MaxInFlight:
		return bad("MaxCatchUp = %d, want 1..%d (MaxInFlight−1)", p.MaxCatchUp, p.MaxInFlight-1)
	case p.Retries < 0 || p.Retries > MaxRetries:
		return bad("Retries = %d, want 0..%d", p.Retries, MaxRetries)
	case p.Deadline < 1:
		return bad("Deadline = 0, want ≥ 1")
	case p.MaxAttempts < 1 || p.MaxAttempts > MaxAttempts:
		return bad("MaxAttempts = %d, want 1..%d", p.MaxAttempts, MaxAttempts)
	case p.MaxAttempts > 1 && p.RetryBackoff < 1:
		return bad("RetryBackoff = 0 with MaxAttempts = %d, want ≥ 1", p.MaxAttempts)
	}
	return nil
}

// Header is what the machine needs of a verified block header.
type Header struct {
	Height   uint64
	DataRoot [erasure.DataRootSize]byte
	// K is the original square width; the extended square is 2K wide.
	K int
}

func (h Header) validate() error {
	if h.Height == 0 {
		return fmt.Errorf("%w: height 0", ErrInvalidHeader)
	}
	if h.K < 1 || h.K > erasure.MaxODSWidth || h.K&(h.K-1) != 0 {
		return fmt.Errorf("%w: height %d: width k = %d is not a power of two in 1..%d", ErrInvalidHeader, h.Height, h.K, erasure.MaxODSWidth)
	}
	return nil
}

// Request asks the driver to fetch samples and report each coordinate back
// with Machine.Sampled, passing the Request itself.
type Request struct {
	// ID is unique among the machine's requests; it tells a late answer to
	// an earlier request from the answer to the current one.
	ID       uint64
	Height   uint64
	DataRoot [erasure.DataRootSize]byte
	// Width is the extended square's width 2k, as erasure.VerifySample
	// takes it.
	Width  int
	Coords []Coord
}

// Result is the verdict on one height.
type Result struct {
	Height uint64
	// Available is true only when every one of the height's distinct
	// random coordinates was reported verified.
	Available bool
	// Confidence is Confidence(k, s) for an available height (1 when the
	// whole square was sampled), 0 otherwise. When earlier rounds of the
	// height failed, each drew fresh coordinates and so gave a withholding
	// producer another chance: after r rounds it is the union bound
	// max(0, 1 − r·(1 − Confidence(k, s))).
	Confidence float64
	// Sampled is the number of distinct coordinates verified.
	Sampled int
	// Fraud is set when the height was marked fraudulent.
	Fraud bool
	// Err is the last failure seen for an unavailable height.
	Err error
}

// Ready is a batch of the machine's outputs. The driver handles all of it,
// then calls Machine.Advance.
type Ready struct {
	// Headers lists heights whose headers the machine needs: look each up
	// and pass it to AddHeader. A height not supplied within Deadline ticks
	// is asked for again.
	Headers []uint64
	// Requests are samples to fetch.
	Requests []Request
	// Done are heights finished since the last Advance.
	Done []Result
	// Checkpoint is the state to persist, when it changed. Persist Done
	// results before it.
	Checkpoint *Checkpoint
}

// Empty reports whether rd holds nothing to do.
func (rd Ready) Empty() bool {
	return len(rd.Headers) == 0 && len(rd.Requests) == 0 && len(rd.Done) == 0 && rd.Checkpoint == nil
}

// JobKind says why a height is being sampled.
type JobKind uint8

// Job kinds, named as celestia-node's das.SamplingStats names them.
const (
	JobRecent  JobKind = iota // a new network head
	JobCatchUp                // an older height within the window
	JobRetry                  // a height that failed before
)

// String returns "recent", "catchup" or "retry".
func (k JobKind) String() string {
	switch k {
	case JobRecent:
		return "recent"
	case JobCatchUp:
		return "catchup"
	case JobRetry:
		return "retry"
	}
	return fmt.Sprintf("JobKind(%d)", uint8(k))
}

// Worker describes one height being sampled.
type Worker struct {
	Kind     JobKind
	Height   uint64
	Verified int    // coordinates verified so far
	Samples  int    // coordinates chosen (0 while the header is awaited)
	Err      string // last failure, if any
}

// Stats is a snapshot of the machine, in the shape of celestia-node's
// das.SamplingStats.
type Stats struct {
	// SampledHead: every height up to it is finished (available or failed)
	// or outside the window.
	SampledHead uint64
	// CatchUpHead: every height up to it has been started.
	CatchUpHead uint64
	NetworkHead uint64
	// Failed maps heights found unavailable to their failed rounds.
	Failed      map[uint64]int
	Workers     []Worker
	Concurrency int
	CatchUpDone bool
	FraudHeight uint64
}

type coordState struct {
	req    uint64 // ID of the outstanding request, 0 if none
	issued uint64 // tick the outstanding request was issued
	fails  int
	done   bool
	queued bool
}

type job struct {
	height   uint64
	kind     JobKind
	hdr      Header
	haveHdr  bool
	hdrAsked uint64 // tick the header was last asked for
	hdrAsks  int
	coords   []Coord // sorted by (Row, Col)
	st       []coordState
	verified int
	queued   bool // some coordinate waits to be requested
	lastErr  error
}

type failure struct {
	rounds  int
	retryAt uint64
	waiting bool // queued for another round
}

// retryQueue is a min-heap of (retryAt, height).
type retryQueue []retryEntry

type retryEntry struct{ at, height uint64 }

func (q retryQueue) Len() int { return len(q) }
func (q retryQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].height < q[j].height
}
func (q retryQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *retryQueue) Push(x any)   { *q = append(*q, x.(retryEntry)) }
func (q *retryQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// Machine is the per-height sampling state machine of a light node. It
// does no I/O, reads no clock and starts no goroutine: inputs go in through
// AddHeader, Sampled, Tick and MarkFraud, outputs come out through Ready.
// It is not safe for concurrent use.
type Machine struct {
	p   Params
	rnd io.Reader
	err error

	tick        uint64
	head        uint64 // network head
	sampledHead uint64
	next        uint64 // catch-up cursor: the next height to consider
	fraud       uint64 // lowest fraudulent height, 0 if none
	lastFloor   uint64 // window floor when state was last pruned

	jobs    map[uint64]*job
	done    map[uint64]bool // available heights above sampledHead
	failed  map[uint64]*failure
	retries retryQueue
	resume  []uint64 // in-progress heights of the checkpoint, restarted first
	recent  *Header  // newest head waiting for a slot

	nextID uint64

	// outputs
	headers   []uint64
	requests  []Request
	results   []Result
	dirtyJobs []uint64
	version   uint64 // bumped on every checkpointed change
	saved     uint64 // version of the last checkpoint handed out and advanced
	// what the last Ready handed out
	rdHeaders, rdRequests, rdResults int
	rdVersion                        uint64
}

// NewMachine returns a machine with parameters p that draws coordinates
// from rnd (crypto/rand.Reader in production) and resumes from cp (nil for
// a fresh start): heights the checkpoint records as finished are not
// sampled again; its in-progress heights are sampled first; its failed
// heights get their remaining rounds.
func NewMachine(p Params, rnd io.Reader, cp *Checkpoint) (*Machine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if rnd == nil {
		return nil, fmt.Errorf("%w: nil randomness source", ErrInvalidParams)
	}
	m := &Machine{
		p: p, rnd: rnd,
		jobs:   map[uint64]*job{},
		done:   map[uint64]bool{},
		failed: map[uint64]*failure{},
		next:   1,
	}
	if cp != nil {
		if err := cp.Validate(); err != nil {
			return nil, err
		}
		m.head, m.sampledHead, m.fraud = cp.NetworkHead, cp.SampledHead, cp.FraudHeight
		m.next = cp.SampledHead + 1
		for _, h := range cp.Done {
			m.done[h] = true
		}
		for h, n := range cp.Failed {
			m.failed[h] = &failure{rounds: n}
			m.queueRetry(h)
		}
		m.resume = slices.Clone(cp.InProgress)
		m.slideWindow()
		m.advanceSampled()
	}
	m.schedule()
	return m, nil
}

// Err returns the error that stopped the machine from scheduling (only a
// failure to read randomness does), or nil.
func (m *Machine) Err() error { return m.err }

// FraudHeight returns the lowest height marked fraudulent, or 0. No height
// at or above it is available, whatever an earlier Result said.
func (m *Machine) FraudHeight() uint64 { return m.fraud }

// NetworkHead returns the highest height seen.
func (m *Machine) NetworkHead() uint64 { return m.head }

// InFlight reports whether height is being sampled.
func (m *Machine) InFlight(height uint64) bool { return m.jobs[height] != nil }

// floor returns the lowest height in the sampling window.
func (m *Machine) floor() uint64 {
	if m.head > m.p.Window {
		return m.head - m.p.Window + 1
	}
	return 1
}

// limit returns the highest height that may be sampled.
func (m *Machine) limit() uint64 {
	if m.fraud != 0 && m.fraud <= m.head {
		return m.fraud - 1
	}
	return m.head
}

// CatchUpDone reports whether a head is known and every height of the
// window up to it (below a fraudulent height) is finished.
func (m *Machine) CatchUpDone() bool {
	return m.head > 0 && m.sampledHead >= m.limit()
}

func (m *Machine) changed() { m.version++ }

// AddHeader gives the machine a verified header. A header above the
// network head is the new head and is sampled first; a header the machine
// asked for (Ready.Headers) starts its height's sampling; any other header
// is ignored. The caller must have verified h (signature, chain).
func (m *Machine) AddHeader(h Header) error {
	if err := h.validate(); err != nil {
		return err
	}
	if h.Height > m.head {
		m.head = h.Height
		m.changed()
		m.slideWindow()
		if m.fraud == 0 || h.Height < m.fraud {
			m.recent = &h // an older waiting head is left to catch-up
		}
		m.advanceSampled()
		m.schedule()
		return nil
	}
	j := m.jobs[h.Height]
	if j == nil {
		return nil
	}
	if j.haveHdr {
		if j.hdr != h {
			return fmt.Errorf("%w: height %d: a different header is already being sampled", ErrInvalidHeader, h.Height)
		}
		return nil
	}
	m.attach(j, h)
	m.schedule()
	return nil
}

// Sampled reports the outcome for coordinate c of request r: verified
// means the driver checked the sample against r.DataRoot with
// erasure.VerifySample; otherwise err says what went wrong (not served,
// bad proof, timeout). Each coordinate of a request is reported at most
// once. A verified sample counts even when it answers an earlier request;
// a failure counts only when it answers the coordinate's current request.
// Reports for finished heights, unknown coordinates or another header's
// data root are ignored.
func (m *Machine) Sampled(r Request, c Coord, verified bool, err error) {
	j := m.jobs[r.Height]
	if j == nil || !j.haveHdr || r.DataRoot != j.hdr.DataRoot || r.Width != 2*j.hdr.K {
		return
	}
	i, ok := slices.BinarySearchFunc(j.coords, c, cmpCoord)
	if !ok || j.st[i].done {
		return
	}
	st := &j.st[i]
	if verified {
		st.done, st.req, st.queued = true, 0, false
		j.verified++
		if j.verified == len(j.coords) {
			m.finish(j, true, nil)
			m.schedule()
		}
		return
	}
	if st.req == 0 || st.req != r.ID {
		return // stale: this attempt already timed out or was re-issued
	}
	if err == nil {
		err = errors.New("sample not verified")
	}
	if m.coordFailed(j, i, err) {
		m.schedule()
	}
}

// coordFailed records a failed attempt at coordinate i of j and reports
// whether j finished (unavailable).
func (m *Machine) coordFailed(j *job, i int, err error) bool {
	st := &j.st[i]
	st.req = 0
	st.fails++
	j.lastErr = fmt.Errorf("(%d, %d): %w", j.coords[i].Row, j.coords[i].Col, err)
	if st.fails > m.p.Retries {
		m.finish(j, false, j.lastErr)
		return true
	}
	st.queued = true
	m.markQueued(j)
	return false
}

func (m *Machine) markQueued(j *job) {
	if !j.queued {
		j.queued = true
		m.dirtyJobs = append(m.dirtyJobs, j.height)
	}
}

// Tick advances logical time by one tick: requests and header waits older
// than Params.Deadline fail, and failed heights whose backoff ended are
// sampled again.
func (m *Machine) Tick() {
	m.tick++
	for _, h := range m.sortedJobs() {
		j := m.jobs[h]
		if j == nil {
			continue
		}
		if !j.haveHdr {
			if m.tick-j.hdrAsked >= m.p.Deadline {
				j.hdrAsks++
				j.lastErr = fmt.Errorf("%w (asked %d times)", ErrNoHeader, j.hdrAsks+1)
				m.askHeader(j)
			}
			continue
		}
		for i := range j.st {
			st := &j.st[i]
			if st.req != 0 && m.tick-st.issued >= m.p.Deadline {
				if m.coordFailed(j, i, ErrTimeout) {
					break
				}
			}
		}
	}
	m.schedule()
}

// MarkFraud records that a fraud proof for height was verified: the height
// and, as a light node must assume, every later one are never available.
// Their sampling stops and the height is reported unavailable.
func (m *Machine) MarkFraud(height uint64) {
	if height == 0 || m.fraud != 0 && height >= m.fraud {
		return
	}
	m.fraud = height
	m.changed()
	for h := range m.jobs {
		if h >= height {
			delete(m.jobs, h)
		}
	}
	for h := range m.done {
		if h >= height {
			delete(m.done, h)
		}
	}
	for h := range m.failed {
		if h >= height {
			delete(m.failed, h)
		}
	}
	if m.recent != nil && m.recent.Height >= height {
		m.recent = nil
	}
	// Retract verdicts not handed out yet: no height at or after a
	// fraudulent one is reported available.
	kept := m.results[:m.rdResults]
	for _, r := range m.results[m.rdResults:] {
		if !r.Available || r.Height < height {
			kept = append(kept, r)
		}
	}
	m.results = kept
	m.results = append(m.results, Result{Height: height, Fraud: true, Err: ErrFraud})
	m.advanceSampled()
	m.schedule()
}

// askHeader queues a request for j's header.
func (m *Machine) askHeader(j *job) {
	j.hdrAsked = m.tick
	m.headers = append(m.headers, j.height)
}

// attach gives j its header and picks its coordinates.
func (m *Machine) attach(j *job, h Header) {
	cs, err := ChooseCoordinates(m.rnd, 2*h.K, m.p.Samples)
	if err != nil {
		m.err = err
		delete(m.jobs, j.height)
		m.changed()
		return
	}
	slices.SortFunc(cs, cmpCoord)
	j.hdr, j.haveHdr, j.coords, j.lastErr = h, true, cs, nil
	j.st = make([]coordState, len(cs))
	for i := range j.st {
		j.st[i].queued = true
	}
	m.markQueued(j)
}

// finish ends j's round.
func (m *Machine) finish(j *job, available bool, err error) {
	delete(m.jobs, j.height)
	m.changed()
	r := Result{Height: j.height, Available: available, Sampled: j.verified, Err: err}
	if available {
		r.Confidence = 1
		if w := 2 * j.hdr.K; len(j.coords) < w*w {
			r.Confidence = Confidence(j.hdr.K, len(j.coords))
			if f := m.failed[j.height]; f != nil {
				// Each round drew fresh coordinates, so each gave a
				// withholding producer another chance: union bound.
				miss := float64(f.rounds+1) * (1 - r.Confidence)
				r.Confidence = max(0, 1-miss)
			}
		}
		delete(m.failed, j.height)
		if j.height > m.sampledHead {
			m.done[j.height] = true
		}
	} else {
		f := m.failed[j.height]
		if f == nil {
			f = &failure{}
			m.failed[j.height] = f
		}
		f.rounds = min(f.rounds+1, maxFailCount)
		m.queueRetry(j.height)
	}
	m.results = append(m.results, r)
	m.advanceSampled()
}

// queueRetry schedules another round for a failed height, if it has one.
func (m *Machine) queueRetry(h uint64) {
	f := m.failed[h]
	if f.rounds >= m.p.MaxAttempts {
		f.waiting = false
		return
	}
	f.waiting = true
	f.retryAt = m.tick + m.p.RetryBackoff*uint64(f.rounds)
	heap.Push(&m.retries, retryEntry{f.retryAt, h})
}

// slideWindow drops state below the sampling window when it moved.
func (m *Machine) slideWindow() {
	fl := m.floor()
	if fl <= m.lastFloor {
		return
	}
	m.lastFloor = fl
	for h := range m.jobs {
		if h < fl {
			delete(m.jobs, h)
			m.changed()
		}
	}
	for h := range m.done {
		if h < fl {
			delete(m.done, h)
			m.changed()
		}
	}
	for h := range m.failed {
		if h < fl {
			delete(m.failed, h)
			m.changed()
		}
	}
	if m.sampledHead+1 < fl {
		m.sampledHead = fl - 1
		m.changed()
	}
}

// advanceSampled moves sampledHead over finished heights.
func (m *Machine) advanceSampled() {
	for {
		h := m.sampledHead + 1
		if h > m.limit() {
			return
		}
		switch {
		case m.done[h]:
			delete(m.done, h)
		case m.failed[h] != nil:
		default:
			return
		}
		m.sampledHead = h
		m.changed()
	}
}

func (m *Machine) inFlight() (all, catchUp int) {
	for _, j := range m.jobs {
		all++
		if j.kind != JobRecent {
			catchUp++
		}
	}
	return all, catchUp
}

// schedule starts heights while slots are free: the waiting head first,
// then checkpointed in-progress heights, due retries, and the catch-up
// cursor in ascending order.
func (m *Machine) schedule() {
	if m.err != nil {
		return
	}
	all, catchUp := m.inFlight()
	if m.recent != nil && all < m.p.MaxInFlight {
		h := *m.recent
		m.recent = nil
		if h.Height >= m.floor() && m.jobs[h.Height] == nil && !m.done[h.Height] && m.failed[h.Height] == nil && h.Height > m.sampledHead {
			m.start(h.Height, JobRecent, &h)
			all++
		}
	}
	for all < m.p.MaxInFlight && catchUp < m.p.MaxCatchUp && m.err == nil {
		h, kind, ok := m.nextCatchUp()
		if !ok {
			return
		}
		var hdr *Header
		if m.recent != nil && m.recent.Height == h {
			hdr, m.recent = m.recent, nil
		}
		m.start(h, kind, hdr)
		all++
		catchUp++
	}
}

// startable reports whether h may start a catch-up round.
func (m *Machine) startable(h uint64) bool {
	return h >= m.floor() && h <= m.limit() && h > m.sampledHead && m.jobs[h] == nil && !m.done[h] && m.failed[h] == nil
}

func (m *Machine) nextCatchUp() (uint64, JobKind, bool) {
	for len(m.resume) > 0 {
		h := m.resume[0]
		m.resume = m.resume[1:]
		if m.startable(h) {
			return h, JobCatchUp, true
		}
	}
	for len(m.retries) > 0 && m.retries[0].at <= m.tick {
		e := heap.Pop(&m.retries).(retryEntry)
		f := m.failed[e.height]
		if f == nil || !f.waiting || f.retryAt != e.at || m.jobs[e.height] != nil ||
			e.height < m.floor() || e.height > m.limit() {
			continue
		}
		f.waiting = false
		return e.height, JobRetry, true
	}
	m.next = max(m.next, m.sampledHead+1, m.floor())
	for m.next <= m.limit() {
		h := m.next
		m.next++
		if m.startable(h) {
			return h, JobCatchUp, true
		}
	}
	return 0, 0, false
}

func (m *Machine) start(h uint64, kind JobKind, hdr *Header) {
	j := &job{height: h, kind: kind}
	m.jobs[h] = j
	m.changed()
	if hdr != nil {
		m.attach(j, *hdr)
	} else {
		m.askHeader(j)
	}
}

func (m *Machine) sortedJobs() []uint64 {
	hs := make([]uint64, 0, len(m.jobs))
	for h := range m.jobs {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}

// flush turns queued coordinates into requests, one per height.
func (m *Machine) flush() {
	if len(m.dirtyJobs) == 0 {
		return
	}
	slices.Sort(m.dirtyJobs)
	for _, h := range m.dirtyJobs {
		j := m.jobs[h]
		if j == nil || !j.queued {
			continue
		}
		j.queued = false
		m.nextID++
		r := Request{ID: m.nextID, Height: h, DataRoot: j.hdr.DataRoot, Width: 2 * j.hdr.K}
		for i := range j.st {
			if st := &j.st[i]; st.queued {
				st.queued, st.req, st.issued = false, m.nextID, m.tick
				r.Coords = append(r.Coords, j.coords[i])
			}
		}
		if len(r.Coords) > 0 {
			m.requests = append(m.requests, r)
		}
	}
	m.dirtyJobs = m.dirtyJobs[:0]
}

// HasReady reports whether Ready would return anything.
func (m *Machine) HasReady() bool {
	return len(m.dirtyJobs) > 0 || len(m.headers) > 0 || len(m.requests) > 0 || len(m.results) > 0 || m.version != m.saved
}

// Ready returns the outputs accumulated since the last Advance. Requests
// it returns are outstanding from the current tick on.
func (m *Machine) Ready() Ready {
	m.flush()
	rd := Ready{
		Headers:  slices.Clone(m.headers),
		Requests: slices.Clone(m.requests),
		Done:     slices.Clone(m.results),
	}
	if m.version != m.saved {
		rd.Checkpoint = m.Checkpoint()
	}
	m.rdHeaders, m.rdRequests, m.rdResults, m.rdVersion = len(rd.Headers), len(rd.Requests), len(rd.Done), m.version
	return rd
}

// Advance acknowledges the last Ready: its outputs have been handled.
func (m *Machine) Advance() {
	m.headers = slices.Delete(m.headers, 0, m.rdHeaders)
	m.requests = slices.Delete(m.requests, 0, m.rdRequests)
	m.results = slices.Delete(m.results, 0, m.rdResults)
	m.saved = m.rdVersion
	m.rdHeaders, m.rdRequests, m.rdResults = 0, 0, 0
}

// Checkpoint returns the machine's persistent state.
func (m *Machine) Checkpoint() *Checkpoint {
	cp := &Checkpoint{SampledHead: m.sampledHead, NetworkHead: m.head, FraudHeight: m.fraud}
	for h := range m.done {
		cp.Done = append(cp.Done, h)
	}
	slices.Sort(cp.Done)
	if len(m.failed) > 0 {
		cp.Failed = make(map[uint64]int, len(m.failed))
		for h, f := range m.failed {
			cp.Failed[h] = f.rounds
		}
	}
	for h, j := range m.jobs {
		if m.failed[h] == nil && j.kind != JobRetry {
			cp.InProgress = append(cp.InProgress, h)
		}
	}
	for _, h := range m.resume {
		if m.startable(h) {
			cp.InProgress = append(cp.InProgress, h)
		}
	}
	slices.Sort(cp.InProgress)
	cp.InProgress = slices.Compact(cp.InProgress)
	return cp
}

// Stats returns a snapshot for das.SamplingStats.
func (m *Machine) Stats() Stats {
	s := Stats{
		SampledHead: m.sampledHead,
		CatchUpHead: max(m.sampledHead, min(m.next-1, m.limit())),
		NetworkHead: m.head,
		CatchUpDone: m.CatchUpDone(),
		FraudHeight: m.fraud,
	}
	if len(m.failed) > 0 {
		s.Failed = make(map[uint64]int, len(m.failed))
		for h, f := range m.failed {
			s.Failed[h] = f.rounds
		}
	}
	for _, h := range m.sortedJobs() {
		j := m.jobs[h]
		w := Worker{Kind: j.kind, Height: h, Verified: j.verified, Samples: len(j.coords)}
		if j.lastErr != nil {
			w.Err = j.lastErr.Error()
		}
		s.Workers = append(s.Workers, w)
	}
	s.Concurrency = len(s.Workers)
	return s
}

func cmpCoord(a, b Coord) int {
	if a.Row != b.Row {
		return a.Row - b.Row
	}
	return a.Col - b.Col
}
