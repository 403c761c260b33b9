package headersync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tessera-da/tessera/node/header"
)

// Gossip limits and defaults.
const (
	DefaultMaxAhead     = 1024    // headers: gossip further ahead of the head is ignored (caught up by ranges)
	DefaultMaxFraudSize = 1 << 20 // bytes: largest fraud proof accepted (a k=512 bad-encoding proof is ~0.75 MB)
	DefaultMaxInvalid   = 8       // rejected messages from one peer before it is blacklisted
	headerQueue         = 256     // accepted headers buffered for the Syncer; more are dropped (ranges fill the gap)
	fraudQueue          = 16      // fraud messages buffered for the handlers
	maxInvalidRecords   = 4096    // peers whose rejected messages are counted at most
	headerValidateTime  = time.Second
	fraudValidateTime   = 10 * time.Second
)

// Sentinel errors.
var (
	// ErrInvalidParams wraps parameter errors.
	ErrInvalidParams = errors.New("headersync: invalid params")
	// ErrKnown: a gossiped header at or below the head.
	ErrKnown = errors.New("headersync: header already known")
	// ErrTooFarAhead: a gossiped header more than MaxAhead above the head.
	ErrTooFarAhead = errors.New("headersync: header too far ahead")
	// ErrIgnore, wrapped by a FraudValidator's error, makes the fraud topic
	// ignore the message (not relayed, the sender not penalised) instead of
	// rejecting it.
	ErrIgnore = errors.New("headersync: ignore message")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("headersync: closed")
)

// HeaderTopic returns the gossipsub topic of compact headers on chainID.
func HeaderTopic(chainID string) string { return "/tessera/" + chainID + "/headers/v1" }

// FraudTopic returns the gossipsub topic of fraud proofs on chainID.
func FraudTopic(chainID string) string { return "/tessera/" + chainID + "/fraud/v1" }

// FraudValidator checks a gossiped fraud proof. It returns nil for a valid
// proof (delivered and relayed), an error wrapping ErrIgnore for one that
// cannot be judged now (dropped quietly), and any other error for an
// invalid one (rejected; the sending peer is penalised). It is called
// concurrently and must bound its own work; it gets at most 10 s.
type FraudValidator func(ctx context.Context, data []byte) error

// GossipParams configures the header and fraud topics.
type GossipParams struct {
	ChainID   string
	Producers []ed25519.PublicKey // the genesis producer keys
	// MaxAhead: gossiped headers more than this many heights above the head
	// are ignored (not relayed), though their height still becomes the sync
	// target once their signature checks.
	MaxAhead uint64
	// Fraud validates fraud proofs; nil ignores every fraud message.
	Fraud        FraudValidator
	MaxFraudSize int // bytes
	// MaxInvalid rejected messages from one peer get it blacklisted by the
	// gossipsub router (its messages are dropped from then on).
	MaxInvalid int
	// OnInvalid, if set, is called with the peer that relayed each rejected
	// message (e.g. to score it down in the peer pool). It must not block.
	OnInvalid func(peer.ID)
	Logger    *slog.Logger // nil discards
}

// DefaultGossipParams returns the defaults for chainID and producers.
func DefaultGossipParams(chainID string, producers []ed25519.PublicKey) GossipParams {
	return GossipParams{
		ChainID: chainID, Producers: producers,
		MaxAhead: DefaultMaxAhead, MaxFraudSize: DefaultMaxFraudSize, MaxInvalid: DefaultMaxInvalid,
	}
}

// Validate checks the parameters.
func (p *GossipParams) Validate() error {
	switch {
	case p.ChainID == "" || len(p.ChainID) > header.MaxChainIDSize:
		return fmt.Errorf("%w: chain ID of %d bytes", ErrInvalidParams, len(p.ChainID))
	case len(p.Producers) == 0:
		return fmt.Errorf("%w: no producer keys", ErrInvalidParams)
	case p.MaxAhead == 0:
		return fmt.Errorf("%w: max ahead must be positive", ErrInvalidParams)
	case p.MaxFraudSize <= 0:
		return fmt.Errorf("%w: max fraud size must be positive", ErrInvalidParams)
	case p.MaxInvalid <= 0:
		return fmt.Errorf("%w: max invalid must be positive", ErrInvalidParams)
	}
	for i, k := range p.Producers {
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: producer key %d has %d bytes", ErrInvalidParams, i, len(k))
		}
	}
	return nil
}

// GossipStats counts validation results since start.
type GossipStats struct {
	Accepted, Ignored, Rejected                uint64 // header topic
	FraudAccepted, FraudIgnored, FraudRejected uint64 // fraud topic
	Dropped                                    uint64 // accepted headers the Syncer was too busy to take
}

// headerValidator holds the pure part of header-topic validation.
type headerValidator struct {
	chainID   string
	producers []ed25519.PublicKey
	maxAhead  uint64
	head      atomic.Pointer[header.Header] // verified head; nil before the first
	target    atomic.Uint64                 // highest height seen with a valid signature
}

// validate judges one gossip message. local marks this node's own publish,
// which skips the height checks.
func (v *headerValidator) validate(data []byte, local bool) (pubsub.ValidationResult, *header.Header, error) {
	if len(data) > header.MaxEncodedSize {
		return pubsub.ValidationReject, nil, fmt.Errorf("%w: %d bytes, at most %d", header.ErrInvalidHeader, len(data), header.MaxEncodedSize)
	}
	h := new(header.Header)
	if err := h.UnmarshalBinary(data); err != nil {
		return pubsub.ValidationReject, nil, err
	}
	if h.ChainID != v.chainID {
		return pubsub.ValidationReject, nil, fmt.Errorf("%w: chain %q, want %q", header.ErrInvalidHeader, h.ChainID, v.chainID)
	}
	if !v.known(h.Producer) {
		return pubsub.ValidationReject, nil, fmt.Errorf("%w: producer %x is not in the genesis", header.ErrInvalidSignature, []byte(h.Producer))
	}
	head := v.head.Load()
	var headHeight uint64
	if head != nil {
		headHeight = head.Height
	}
	if !local && h.Height <= headHeight {
		return pubsub.ValidationIgnore, nil, fmt.Errorf("%w: height %d, head %d", ErrKnown, h.Height, headHeight)
	}
	if err := h.ValidateBasic(); err != nil { // the signature, checked once the cheap checks pass
		return pubsub.ValidationReject, nil, err
	}
	if local {
		return pubsub.ValidationAccept, h, nil
	}
	if head != nil && h.Height == headHeight+1 && (h.PrevHash != head.Hash() || h.Time.Before(head.Time)) {
		// A fork of the verified chain (the checks of header.Verify with
		// prev, whose signature check is done above).
		return pubsub.ValidationReject, nil, fmt.Errorf("%w: height %d does not extend head %s", header.ErrNotChained, h.Height, head.Hash())
	}
	raise(&v.target, h.Height)
	if h.Height-headHeight > v.maxAhead {
		return pubsub.ValidationIgnore, nil, fmt.Errorf("%w: height %d, head %d", ErrTooFarAhead, h.Height, headHeight)
	}
	return pubsub.ValidationAccept, h, nil
}

func (v *headerValidator) known(k ed25519.PublicKey) bool {
	for _, p := range v.producers {
		if bytes.Equal(p, k) {
			return true
		}
	}
	return false
}

// raise sets a to max(a, n).
func raise(a *atomic.Uint64, n uint64) {
	for {
		old := a.Load()
		if n <= old || a.CompareAndSwap(old, n) {
			return
		}
	}
}

// Gossip runs the header and fraud topics of one chain: it joins both,
// validates every message, relays valid ones, hands accepted headers to a
// Syncer and fraud proofs to subscribers, and publishes this node's own.
type Gossip struct {
	p      GossipParams
	log    *slog.Logger
	ps     *pubsub.PubSub
	v      *headerValidator
	hdr    *pubsub.Topic
	fraud  *pubsub.Topic
	hdrSub *pubsub.Subscription
	frSub  *pubsub.Subscription

	headers chan *header.Header // accepted headers for the Syncer
	wake    chan struct{}       // the target rose

	mu       sync.Mutex
	handlers map[uint64]func([]byte)
	nextID   uint64
	invalid  map[peer.ID]int

	accepted, ignored, rejected, dropped atomic.Uint64
	frAccepted, frIgnored, frRejected    atomic.Uint64
	ctx                                  context.Context
	cancel                               context.CancelFunc
	wg                                   sync.WaitGroup
	closeOnce                            sync.Once
}

// NewGossip joins the header and fraud topics of p.ChainID on ps (see
// p2p.Host.PubSub) and registers their validators. Call Close to leave.
func NewGossip(ps *pubsub.PubSub, p GossipParams) (*Gossip, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gossip{
		p: p, log: log, ps: ps,
		v:        &headerValidator{chainID: p.ChainID, producers: p.Producers, maxAhead: p.MaxAhead},
		headers:  make(chan *header.Header, headerQueue),
		wake:     make(chan struct{}, 1),
		handlers: map[uint64]func([]byte){},
		invalid:  map[peer.ID]int{},
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	ht, ft := HeaderTopic(p.ChainID), FraudTopic(p.ChainID)
	var err error
	fail := func(e error) (*Gossip, error) {
		g.cancel()
		g.leave()
		return nil, e
	}
	if err = ps.RegisterTopicValidator(ht, g.validateHeader, pubsub.WithValidatorTimeout(headerValidateTime)); err != nil {
		return fail(fmt.Errorf("headersync: header validator: %w", err))
	}
	if err = ps.RegisterTopicValidator(ft, g.validateFraud, pubsub.WithValidatorTimeout(fraudValidateTime)); err != nil {
		return fail(fmt.Errorf("headersync: fraud validator: %w", err))
	}
	if g.hdr, err = ps.Join(ht); err != nil {
		return fail(fmt.Errorf("headersync: join %s: %w", ht, err))
	}
	if g.fraud, err = ps.Join(ft); err != nil {
		return fail(fmt.Errorf("headersync: join %s: %w", ft, err))
	}
	if g.hdrSub, err = g.hdr.Subscribe(pubsub.WithBufferSize(headerQueue)); err != nil {
		return fail(fmt.Errorf("headersync: subscribe %s: %w", ht, err))
	}
	if g.frSub, err = g.fraud.Subscribe(pubsub.WithBufferSize(fraudQueue)); err != nil {
		return fail(fmt.Errorf("headersync: subscribe %s: %w", ft, err))
	}
	g.wg.Add(2)
	go g.readHeaders()
	go g.readFraud()
	return g, nil
}

// leave cancels subscriptions, closes topics and removes validators
// (whatever was set up).
func (g *Gossip) leave() {
	g.wg.Wait()
	// Cancel is asynchronous: wait (briefly) until each subscription is
	// closed, or Topic.Close would refuse to close a topic still in use.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range []*pubsub.Subscription{g.hdrSub, g.frSub} {
		if s == nil {
			continue
		}
		s.Cancel()
		for {
			if _, err := s.Next(ctx); err != nil {
				break
			}
		}
	}
	for _, t := range []*pubsub.Topic{g.hdr, g.fraud} {
		if t != nil {
			_ = t.Close()
		}
	}
	_ = g.ps.UnregisterTopicValidator(HeaderTopic(g.p.ChainID))
	_ = g.ps.UnregisterTopicValidator(FraudTopic(g.p.ChainID))
}

// Close leaves both topics. Handlers are not called after Close returns.
func (g *Gossip) Close() error {
	g.closeOnce.Do(func() {
		g.cancel()
		g.leave()
	})
	return nil
}

// SetHead tells the validator the verified head: gossip at or below it is
// ignored, and a header at the next height must extend it. The Syncer
// calls it; a producer's Publish does it implicitly.
func (g *Gossip) SetHead(h *header.Header) {
	for {
		old := g.v.head.Load()
		if h == nil || (old != nil && old.Height >= h.Height) || g.v.head.CompareAndSwap(old, h) {
			return
		}
	}
}

// Target returns the highest height seen on the header topic with a valid
// producer signature (0 before any).
func (g *Gossip) Target() uint64 { return g.v.target.Load() }

// Stats returns the validation counters.
func (g *Gossip) Stats() GossipStats {
	return GossipStats{
		Accepted: g.accepted.Load(), Ignored: g.ignored.Load(), Rejected: g.rejected.Load(),
		FraudAccepted: g.frAccepted.Load(), FraudIgnored: g.frIgnored.Load(), FraudRejected: g.frRejected.Load(),
		Dropped: g.dropped.Load(),
	}
}

// Publish gossips h (a producer's new header). It fails if h is not valid
// and signed by a genesis producer for this chain.
func (g *Gossip) Publish(ctx context.Context, h *header.Header) error {
	if g.ctx.Err() != nil {
		return ErrClosed
	}
	data, err := h.MarshalBinary()
	if err != nil {
		return err
	}
	if err := g.hdr.Publish(ctx, data, pubsub.WithValidatorData(localMark{})); err != nil {
		return fmt.Errorf("headersync: publish header %d: %w", h.Height, err)
	}
	g.SetHead(h)
	return nil
}

// PublishFraud gossips a fraud proof. The FraudValidator checks it first
// (so a node without one cannot publish).
func (g *Gossip) PublishFraud(ctx context.Context, data []byte) error {
	if g.ctx.Err() != nil {
		return ErrClosed
	}
	if err := g.fraud.Publish(ctx, data, pubsub.WithValidatorData(localMark{})); err != nil {
		return fmt.Errorf("headersync: publish fraud proof: %w", err)
	}
	return nil
}

// SubscribeFraud calls handler, in order and one at a time, with every
// valid fraud proof delivered from now on (this node's own included). The
// returned func unsubscribes. Handlers must not block for long: messages
// beyond a small buffer are dropped by the router while they run.
func (g *Gossip) SubscribeFraud(handler func(data []byte)) (cancel func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextID++
	id := g.nextID
	g.handlers[id] = handler
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.handlers, id)
	}
}

// localMark is the validator data of this node's own publishes: remote
// messages reach the validator with none.
type localMark struct{}

func (g *Gossip) validateHeader(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	_, local := msg.ValidatorData.(localMark)
	res, h, err := g.v.validate(msg.GetData(), local)
	switch res {
	case pubsub.ValidationAccept:
		g.accepted.Add(1)
		msg.ValidatorData = h
	case pubsub.ValidationIgnore:
		g.ignored.Add(1)
		if errors.Is(err, ErrTooFarAhead) {
			g.signalTarget()
		}
	default:
		g.rejected.Add(1)
		if !local {
			g.log.Debug("headersync: rejected header", "from", from, "err", err)
			g.penalise(from)
		}
	}
	return res
}

func (g *Gossip) validateFraud(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	_, local := msg.ValidatorData.(localMark)
	data := msg.GetData()
	res := pubsub.ValidationAccept
	var err error
	switch {
	case len(data) > g.p.MaxFraudSize:
		res, err = pubsub.ValidationReject, fmt.Errorf("fraud proof of %d bytes, at most %d", len(data), g.p.MaxFraudSize)
	case g.p.Fraud == nil:
		res, err = pubsub.ValidationIgnore, errors.New("no fraud validator")
	default:
		if err = g.p.Fraud(ctx, data); err != nil {
			res = pubsub.ValidationReject
			if errors.Is(err, ErrIgnore) {
				res = pubsub.ValidationIgnore
			}
		}
	}
	switch res {
	case pubsub.ValidationAccept:
		g.frAccepted.Add(1)
	case pubsub.ValidationIgnore:
		g.frIgnored.Add(1)
	default:
		g.frRejected.Add(1)
		if !local {
			g.log.Debug("headersync: rejected fraud proof", "from", from, "err", err)
			g.penalise(from)
		}
	}
	return res
}

// penalise counts a rejected message against the peer that relayed it and
// blacklists the peer after MaxInvalid of them.
func (g *Gossip) penalise(from peer.ID) {
	if g.p.OnInvalid != nil {
		g.p.OnInvalid(from)
	}
	g.mu.Lock()
	if len(g.invalid) >= maxInvalidRecords {
		clear(g.invalid)
	}
	g.invalid[from]++
	n := g.invalid[from]
	if n >= g.p.MaxInvalid {
		delete(g.invalid, from)
	}
	g.mu.Unlock()
	if n >= g.p.MaxInvalid {
		g.log.Warn("headersync: blacklisting peer after invalid gossip", "peer", from, "rejected", n)
		g.ps.BlacklistPeer(from)
	}
}

func (g *Gossip) signalTarget() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// readHeaders hands accepted headers to the Syncer, dropping them when it
// is busy (the target still rises, so ranges fill the gap).
func (g *Gossip) readHeaders() {
	defer g.wg.Done()
	for {
		msg, err := g.hdrSub.Next(g.ctx)
		if err != nil {
			return
		}
		h, ok := msg.ValidatorData.(*header.Header)
		if !ok {
			continue
		}
		select {
		case g.headers <- h:
		default:
			g.dropped.Add(1)
		}
		g.signalTarget()
	}
}

func (g *Gossip) readFraud() {
	defer g.wg.Done()
	for {
		msg, err := g.frSub.Next(g.ctx)
		if err != nil {
			return
		}
		g.mu.Lock()
		hs := make([]func([]byte), 0, len(g.handlers))
		for _, h := range g.handlers {
			hs = append(hs, h)
		}
		g.mu.Unlock()
		for _, h := range hs {
			h(bytes.Clone(msg.GetData()))
		}
	}
}
