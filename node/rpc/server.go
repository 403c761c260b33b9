package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default limits. A zero field in Options means the default below.
const (
	// DefaultMaxBodyBytes is 2 × celestia-app's MaxTxSize of 8 MiB, the
	// limit celestia-node puts on a request body (bytes).
	DefaultMaxBodyBytes = 16 << 20
	// DefaultMaxWSMessageBytes bounds one WebSocket message from a client
	// (bytes); the same as a request body.
	DefaultMaxWSMessageBytes = DefaultMaxBodyBytes
	// DefaultMaxBatch bounds the requests in one batch (requests).
	DefaultMaxBatch = 100
	// DefaultMaxConcurrentHTTP bounds HTTP requests being read or executed
	// at once, server-wide; further requests wait before their body is read
	// (requests).
	DefaultMaxConcurrentHTTP = 256
	// DefaultMaxConcurrentPerConn bounds the messages (calls or batches)
	// executing at once on one WebSocket connection; more are refused with
	// CodeServerBusy (messages).
	DefaultMaxConcurrentPerConn = 64
	// DefaultMaxSubscriptionsPerConn bounds open subscriptions on one
	// WebSocket connection (subscriptions).
	DefaultMaxSubscriptionsPerConn = 64
	// DefaultMaxWSConns bounds open WebSocket connections; further upgrades
	// get HTTP 503 (connections).
	DefaultMaxWSConns = 512
	// DefaultWSWriteQueueMessages bounds messages waiting to be written to
	// one WebSocket connection (messages).
	DefaultWSWriteQueueMessages = 1024
	// DefaultWSWriteQueueBytes bounds bytes waiting to be written to one
	// WebSocket connection; a single larger message is still accepted
	// into an empty queue (bytes).
	DefaultWSWriteQueueBytes = 64 << 20
	// DefaultWSWriteTimeout bounds writing one WebSocket message.
	DefaultWSWriteTimeout = 30 * time.Second
	// DefaultWSPingInterval is how often the server pings an idle
	// WebSocket client; a client silent for two intervals is dropped.
	DefaultWSPingInterval = 30 * time.Second
)

// batchParallelism bounds how many requests of one batch run at once.
const batchParallelism = 8

// subCloseGrace bounds the wait for a subscription handler to close its
// channel after its context was cancelled.
const subCloseGrace = 10 * time.Second

// Options configure a Server. The zero value of every limit means its
// Default… constant; negative values are invalid. The zero Options is
// invalid because it has neither a Secret nor NoAuth.
type Options struct {
	// Secret is the HS256 key tokens are verified with (at least
	// SecretSize bytes; celestia-node's keys/jwt-secret.jwt). Required
	// unless NoAuth.
	Secret []byte
	// NoAuth grants admin to every caller and ignores Authorization
	// headers. For local development only.
	NoAuth bool
	// AuthRequired refuses requests without a token (HTTP 401) instead of
	// serving them with only PermPublic.
	AuthRequired bool

	// MaxBodyBytes bounds an HTTP request body (bytes); larger bodies get
	// HTTP 413.
	MaxBodyBytes int64
	// MaxWSMessageBytes bounds one WebSocket message from a client
	// (bytes); a larger one closes the connection with code 1009.
	MaxWSMessageBytes int64
	// MaxBatch bounds the requests in one batch.
	MaxBatch int
	// MaxConcurrentHTTP bounds HTTP requests in progress server-wide.
	MaxConcurrentHTTP int
	// MaxConcurrentPerConn bounds messages executing at once on one
	// WebSocket connection.
	MaxConcurrentPerConn int
	// MaxSubscriptionsPerConn bounds open subscriptions per WebSocket
	// connection.
	MaxSubscriptionsPerConn int
	// MaxWSConns bounds open WebSocket connections.
	MaxWSConns int
	// WSWriteQueueMessages and WSWriteQueueBytes bound the messages queued
	// for one WebSocket client. A client that lets the queue overflow is
	// disconnected with close code 1008 and a reason naming the overflow.
	WSWriteQueueMessages int
	WSWriteQueueBytes    int64
	// WSWriteTimeout bounds writing one WebSocket message.
	WSWriteTimeout time.Duration
	// WSPingInterval is the WebSocket keep-alive ping period.
	WSPingInterval time.Duration

	// CheckOrigin decides whether a request carrying an Origin header (a
	// browser) may proceed, for HTTP and WebSocket alike. Nil allows only
	// requests without Origin or whose Origin host equals the Host header,
	// so that web pages cannot drive a node through a visitor's browser.
	CheckOrigin func(r *http.Request) bool
	// Observe, when set, is called once per call of a registered method
	// with its name, the time from dispatch to the end of the handler (for
	// a subscription: until the channel is returned) and the error sent to
	// the caller (an *Error) or nil. Unknown methods are not reported.
	// It must be safe for concurrent use and quick.
	Observe func(method string, d time.Duration, err error)
	// Logger receives handler panics and protocol anomalies; nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock used to check token expiry; nil means time.Now.
	Now func() time.Time
}

// Validate reports the first invalid field: a negative limit,
// NoAuth together with AuthRequired, or a short Secret without NoAuth.
func (o Options) Validate() error {
	if o.NoAuth && o.AuthRequired {
		return errors.New("rpc: options: NoAuth and AuthRequired contradict each other")
	}
	if !o.NoAuth && len(o.Secret) < SecretSize {
		return fmt.Errorf("rpc: options: Secret must be at least %d bytes (or set NoAuth for local development)", SecretSize)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxBodyBytes", o.MaxBodyBytes},
		{"MaxWSMessageBytes", o.MaxWSMessageBytes},
		{"MaxBatch", int64(o.MaxBatch)},
		{"MaxConcurrentHTTP", int64(o.MaxConcurrentHTTP)},
		{"MaxConcurrentPerConn", int64(o.MaxConcurrentPerConn)},
		{"MaxSubscriptionsPerConn", int64(o.MaxSubscriptionsPerConn)},
		{"MaxWSConns", int64(o.MaxWSConns)},
		{"WSWriteQueueMessages", int64(o.WSWriteQueueMessages)},
		{"WSWriteQueueBytes", o.WSWriteQueueBytes},
		{"WSWriteTimeout", int64(o.WSWriteTimeout)},
		{"WSPingInterval", int64(o.WSPingInterval)},
	} {
		if f.v < 0 {
			return fmt.Errorf("rpc: options: %s is negative (%d)", f.name, f.v)
		}
	}
	return nil
}

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	orDefault(&o.MaxBodyBytes, DefaultMaxBodyBytes)
	orDefault(&o.MaxWSMessageBytes, DefaultMaxWSMessageBytes)
	orDefault(&o.MaxBatch, DefaultMaxBatch)
	orDefault(&o.MaxConcurrentHTTP, DefaultMaxConcurrentHTTP)
	orDefault(&o.MaxConcurrentPerConn, DefaultMaxConcurrentPerConn)
	orDefault(&o.MaxSubscriptionsPerConn, DefaultMaxSubscriptionsPerConn)
	orDefault(&o.MaxWSConns, DefaultMaxWSConns)
	orDefault(&o.WSWriteQueueMessages, DefaultWSWriteQueueMessages)
	orDefault(&o.WSWriteQueueBytes, DefaultWSWriteQueueBytes)
	orDefault(&o.WSWriteTimeout, DefaultWSWriteTimeout)
	orDefault(&o.WSPingInterval, DefaultWSPingInterval)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Secret = slices.Clone(o.Secret)
	return o
}

// orDefault sets *v to d when it is zero.
func orDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// Server is a JSON-RPC 2.0 server speaking celestia-node's wire protocol
// over HTTP POST and WebSocket on one path. It is an http.Handler. Register
// methods, then serve it; registering while serving is safe.
type Server struct {
	opts Options
	log  *slog.Logger

	regMu   sync.Mutex                         // serialises Register
	methods atomic.Pointer[map[string]*method] // copy-on-write

	httpSlots chan struct{} // MaxConcurrentHTTP tokens

	mu     sync.Mutex
	conns  map[*wsConn]struct{}
	closed bool
}

// NewServer returns a Server with no methods, or the error of
// opts.Validate.
func NewServer(opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		httpSlots: make(chan struct{}, opts.MaxConcurrentHTTP),
		conns:     make(map[*wsConn]struct{}),
	}
	s.methods.Store(&map[string]*method{})
	return s, nil
}

// Register adds a method named "module.Method" that callers need perm to
// invoke. fn must be a func whose first parameter is a context.Context,
// followed by one parameter per positional JSON param, and which returns
// error, (T, error) or, for a subscription (WebSocket only), (<-chan T,
// error). Params are decoded with encoding/json into fresh values of the
// parameter types; results are encoded with encoding/json. paramNames, if
// given, name the parameters (one per parameter) in error messages.
//
// The handler's context carries the caller's permissions
// (PermsFromContext) and is cancelled when the client disconnects or, on
// WebSocket, sends xrpc.cancel for the request. A subscription handler must
// close its channel once its context is cancelled, and must not send on it
// after closing.
//
// Register fails on a malformed name, an unknown permission, a signature
// it cannot serve or a name already registered.
func (s *Server) Register(name string, perm Perm, fn any, paramNames ...string) error {
	m, err := newMethod(name, perm, fn, paramNames)
	if err != nil {
		return err
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	old := *s.methods.Load()
	if _, dup := old[name]; dup {
		return fmt.Errorf("rpc: method %s is already registered", name)
	}
	next := maps.Clone(old)
	next[name] = m
	s.methods.Store(&next)
	return nil
}

// Methods returns the registered method names and the permission each
// needs, for documentation and tests.
func (s *Server) Methods() map[string]Perm {
	out := make(map[string]Perm)
	for k, m := range *s.methods.Load() {
		out[k] = m.perm
	}
	return out
}

func (s *Server) lookup(name string) *method {
	return (*s.methods.Load())[name]
}

// Close disconnects every WebSocket client with close code 1001 and makes
// the server refuse new requests with HTTP 503. It does not wait for
// handlers to return. It always returns nil.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown(closeGoingAway, "rpc: server shutting down")
	}
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// ServeHTTP serves JSON-RPC over POST and upgrades WebSocket handshakes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isUpgrade(r) {
		s.serveWS(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeHTTPError(w, http.StatusMethodNotAllowed, errorf(CodeInvalidRequest, "HTTP method %s not allowed: use POST or a WebSocket upgrade", r.Method))
		return
	}
	perms, status, e := s.admit(r)
	if e != nil {
		writeHTTPError(w, status, e)
		return
	}
	select {
	case s.httpSlots <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	defer func() { <-s.httpSlots }()

	limit := s.opts.MaxBodyBytes
	if r.ContentLength > limit {
		writeHTTPError(w, http.StatusRequestEntityTooLarge, errorf(CodeInvalidRequest, "request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeHTTPError(w, http.StatusRequestEntityTooLarge, errorf(CodeInvalidRequest, "request body exceeds the limit of %d bytes", limit))
			return
		}
		writeHTTPError(w, http.StatusBadRequest, errorf(CodeParseError, "reading request body: %s", shortErr(err)))
		return
	}
	ctx := withPerms(r.Context(), perms)
	resp, status := s.handleBody(ctx, perms, body)
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(resp)))
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}

// handleBody executes an HTTP body: one request or a batch. It returns nil
// when there is nothing to answer (only notifications), and the HTTP
// status: 400 for a body that is not JSON or not a request, else 200.
func (s *Server) handleBody(ctx context.Context, perms []Perm, body []byte) ([]byte, int) {
	single, batch, e := splitBody(body, s.opts.MaxBatch)
	if e != nil {
		return errorBody(e), http.StatusBadRequest
	}
	if batch != nil {
		return s.execBatch(ctx, perms, batch, nil), http.StatusOK
	}
	req, e := parseRequest(single)
	if e != nil {
		return appendError(nil, req.id, e), http.StatusBadRequest
	}
	out := s.exec(ctx, perms, req, nil, false)
	return out.resp, http.StatusOK
}

// execBatch runs the elements of a batch, batchParallelism at a time, and
// returns the JSON array of their responses (nil if all were
// notifications).
func (s *Server) execBatch(ctx context.Context, perms []Perm, batch [][]byte, ws *wsConn) []byte {
	resps := make([][]byte, len(batch))
	sem := make(chan struct{}, batchParallelism)
	var wg sync.WaitGroup
	for i, raw := range batch {
		req, e := parseRequest(raw)
		if e != nil {
			resps[i] = appendError(nil, req.id, e)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			if ws != nil {
				defer ws.track(req.id, cancel)()
			}
			resps[i] = s.exec(cctx, perms, req, ws, true).resp
		}()
	}
	wg.Wait()
	return responseArray(resps)
}

// outcome is the result of executing one request.
type outcome struct {
	resp []byte        // the response to send; nil for none
	ch   reflect.Value // a subscription's channel (valid only on success)
	m    *method
}

// exec runs one parsed request. ws is the WebSocket connection it came
// on, nil for HTTP. A successful subscription returns its channel and no
// response: the caller assigns the channel id and answers.
func (s *Server) exec(ctx context.Context, perms []Perm, req request, ws *wsConn, inBatch bool) (out outcome) {
	if req.method == methodCancel {
		var e *Error
		if ws == nil {
			e = errorf(CodeMethodNotFound, "method '%s' is only available over WebSocket", methodCancel)
		} else {
			e = ws.cancelRequest(req.params)
		}
		switch {
		case req.id == nil:
			return out
		case e != nil:
			return outcome{resp: appendError(nil, req.id, e)}
		default:
			return outcome{resp: appendResult(nil, req.id, json.RawMessage("null"))}
		}
	}
	m := s.lookup(req.method)
	if m == nil {
		if req.id == nil {
			return out
		}
		return outcome{resp: appendError(nil, req.id, errorf(CodeMethodNotFound, "method '%s' not found", clip(req.method)))}
	}
	out.m = m
	start := time.Now()
	var rerr *Error
	defer func() {
		if s.opts.Observe != nil {
			var err error
			if rerr != nil {
				err = rerr
			}
			s.observe(m.name, time.Since(start), err)
		}
		if rerr != nil {
			out.ch = reflect.Value{}
			if req.id != nil {
				out.resp = appendError(nil, req.id, rerr)
			}
		}
	}()

	if !slices.Contains(perms, m.perm) {
		rerr = errorf(CodeDefault, "missing permission to invoke '%s' (need '%s')", m.name, m.perm)
		return out
	}
	if m.sub {
		switch {
		case ws == nil:
			rerr = errorf(CodeMethodNotFound, "method '%s' is a subscription and needs a WebSocket connection", m.name)
			return out
		case inBatch:
			rerr = errorf(CodeInvalidRequest, "subscription method '%s' cannot be called in a batch", m.name)
			return out
		case req.id == nil:
			rerr = errorf(CodeInvalidRequest, "subscription method '%s' cannot be called as a notification", m.name)
			return out
		case !ws.reserveSub():
			rerr = errorf(CodeServerBusy, "too many subscriptions on this connection (limit %d)", s.opts.MaxSubscriptionsPerConn)
			return out
		}
		defer func() {
			if !out.ch.IsValid() {
				ws.releaseSub()
			}
		}()
	}
	var prefix []byte // the response up to its result
	if req.id != nil {
		prefix = appendResultPrefix(make([]byte, 0, 64), req.id)
	}
	result, ch, e := s.invoke(ctx, m, req, prefix)
	if e != nil {
		rerr = e
		return out
	}
	if m.sub {
		out.ch = ch
		return out
	}
	if req.id != nil {
		out.resp = append(result, '}')
	}
	return out
}

// observe calls Options.Observe; a panic there is logged, not propagated.
func (s *Server) observe(name string, d time.Duration, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("rpc: Observe hook panicked", "method", name, "panic", fmt.Sprint(v))
		}
	}()
	s.opts.Observe(name, d, err)
}

// invoke decodes the params, calls the handler and appends its encoded
// result to dst (so that a large result is written once, into the
// response), turning a panic anywhere in that (handler, UnmarshalJSON,
// MarshalJSON) into CodeInternalError.
func (s *Server) invoke(ctx context.Context, m *method, req request, dst []byte) (result []byte, ch reflect.Value, e *Error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("rpc: handler panicked", "method", m.name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			result, ch, e = nil, reflect.Value{}, errorf(CodeInternalError, "internal error in method '%s'", m.name)
		}
	}()
	args, e := m.decodeParams(req.params)
	if e != nil {
		return nil, reflect.Value{}, e
	}
	in := make([]reflect.Value, 0, len(args)+1)
	in = append(in, reflect.ValueOf(ctx))
	in = append(in, args...)
	outs := m.fn.Call(in)
	if errV := outs[len(outs)-1]; !errV.IsNil() {
		return nil, reflect.Value{}, toError(errV.Interface().(error))
	}
	if !m.value {
		return append(dst, "null"...), reflect.Value{}, nil
	}
	if m.sub {
		if outs[0].IsNil() {
			return nil, reflect.Value{}, errorf(CodeDefault, "method '%s' returned a nil channel", m.name)
		}
		return nil, outs[0], nil
	}
	b, err := appendResultValue(dst, outs[0].Interface())
	if err != nil {
		s.log.Error("rpc: encoding result", "method", m.name, "err", err)
		return nil, reflect.Value{}, errorf(CodeInternalError, "internal error encoding the result of '%s'", m.name)
	}
	return b, reflect.Value{}, nil
}

// admit checks the Origin and the bearer token of an HTTP or WebSocket
// request and returns the caller's permissions, or the HTTP status and
// error to refuse it with.
func (s *Server) admit(r *http.Request) ([]Perm, int, *Error) {
	if s.isClosed() {
		return nil, http.StatusServiceUnavailable, errorf(CodeServerBusy, "server is shutting down")
	}
	if !s.checkOrigin(r) {
		return nil, http.StatusForbidden, errorf(CodeInvalidRequest, "cross-origin request refused")
	}
	if s.opts.NoAuth {
		return PermsFor(PermAdmin), 0, nil
	}
	tok, present, err := bearerToken(r)
	if err != nil {
		return nil, http.StatusUnauthorized, errorf(CodeUnauthorized, "unauthorized: %s", err)
	}
	if !present {
		if s.opts.AuthRequired {
			return nil, http.StatusUnauthorized, errorf(CodeUnauthorized, "unauthorized: a bearer token is required")
		}
		return []Perm{PermPublic}, 0, nil
	}
	allow, err := VerifyToken(s.opts.Secret, tok, s.opts.Now())
	if err != nil {
		return nil, http.StatusUnauthorized, errorf(CodeUnauthorized, "unauthorized: %s", err)
	}
	return grant(allow), 0, nil
}

func (s *Server) checkOrigin(r *http.Request) bool {
	if s.opts.CheckOrigin != nil {
		return s.opts.CheckOrigin(r)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// writeHTTPError sends a JSON-RPC error with a null id and an HTTP status.
func writeHTTPError(w http.ResponseWriter, status int, e *Error) {
	b := errorBody(e)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// clip bounds an untrusted string echoed in an error message.
func clip(s string) string { return bounded(s, 128) }

// appendResultValue appends a method's encoded result to dst. A result
// that appends its own JSON (jsonAppender, or a slice of them) or is
// itself a json.Marshaler is encoded by calling it directly: encoding/json
// would re-scan and compact its output, which for a 1 MiB blob costs more
// than producing it. The node's result types are trusted to emit valid
// JSON.
func appendResultValue(dst []byte, v any) ([]byte, error) {
	_, isA := v.(jsonAppender)
	if m, ok := v.(json.Marshaler); ok && !isA && !isNilPointer(v) {
		b, err := m.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return append(dst, b...), nil
	}
	return appendJSON(dst, v)
}
