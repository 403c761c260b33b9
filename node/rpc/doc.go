// Package rpc is Tessera's JSON-RPC 2.0 transport, wire-compatible with
// celestia-node's (the filecoin go-jsonrpc server), so that existing
// rollup clients work unchanged. It provides the Server (an http.Handler),
// a Client, and the JWT helpers of celestia-node's auth scheme. It knows
// nothing about blobs or headers: the node registers its methods.
//
// # Wire protocol
//
// One handler serves HTTP POST and WebSocket upgrades on the same path.
// A request is
//
//	{"jsonrpc":"2.0","id":1,"method":"blob.Get","params":[42,"AAAA…","R/UB…"]}
//
// with params a positional array (the Go context.Context is left out);
// absent or null params mean none, named (object) params are refused.
// The id may be a string, a number or null; a request without an id is a
// notification and gets no response (over HTTP: status 204 when nothing
// at all is answered). A batch is a JSON array of requests and is answered
// by an array of the non-notification responses, in request order; its
// requests run concurrently, 8 at a time.
//
// Responses are {"jsonrpc":"2.0","id":…,"result":…} or
// {"jsonrpc":"2.0","id":…,"error":{"code":…,"message":"…"}}, with codes:
//
//	-32700 CodeParseError       body/message is not JSON           (HTTP 400)
//	-32600 CodeInvalidRequest   not a request, empty/oversized batch (HTTP 400 for a lone request)
//	-32601 CodeMethodNotFound   unknown method; a subscription over HTTP (as go-jsonrpc)
//	-32602 CodeInvalidParams    wrong param count or a param that does not decode (names the param)
//	-32603 CodeInternalError    handler panicked or its result did not encode
//	-32000 CodeServerBusy       per-connection call or subscription limit reached
//	-32001 CodeUnauthorized     bad, expired or forged token (HTTP 401)
//	     1 CodeDefault          the method's error (message = err.Error()) or missing permission
//
// As in celestia-node, the error a method returns reaches the caller as
// code 1 with message err.Error() (e.g. "blob: not found"); a method may
// return an *Error (possibly wrapped) to choose another code. All other
// in-protocol errors use HTTP status 200, like go-jsonrpc's method errors.
//
// # Subscriptions
//
// A method registered with a result of type <-chan T is a subscription and
// works over WebSocket only. Its response's result is a channel id, an
// integer counted per connection from 1. Each value the handler sends
// arrives as the notification
//
//	{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[<chanID>,<value>]}
//
// and when the handler closes the channel the server sends
//
//	{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[<chanID>]}
//
// The client cancels with {"jsonrpc":"2.0","method":"xrpc.cancel",
// "params":[<id of the original request>]}; this cancels the handler's
// context (for an ordinary call still running, too) and the handler must
// then close its channel; the server waits up to 10 s for that, dropping
// values meanwhile, then sends xrpc.ch.close regardless. Subscriptions
// cannot be batched or sent as notifications.
//
// # Authentication
//
// A request may carry "Authorization: Bearer <JWT>": HS256 with claims
// exactly celestia-node's
//
//	{"Allow":["public","read"],"Nonce":"<base64 32 bytes>","ExpiresAt":"<RFC3339; zero time = no expiry>"}
//
// (not the registered JWT claims). The usual sets are PermsFor(PermRead) =
// [public read], PermsFor(PermWrite) adds write, PermsFor(PermAdmin) adds
// admin. A method needs exactly the permission it was registered with to
// be in the caller's set; every caller holds public. A caller without it
// gets code 1, "missing permission to invoke 'blob.Submit' (need 'write')".
// A request without a token is served with [public] only, or refused with
// HTTP 401 when Options.AuthRequired is set. An invalid token (other
// algorithm including "none", bad signature, expired, malformed, or a
// header that is not "Bearer <token>") is refused with HTTP 401 and a
// JSON-RPC error body, before the body is read or the WebSocket upgraded.
// Options.NoAuth grants admin to everyone, for local development only;
// there is no default secret, so the zero Options is refused.
//
// Requests carrying an Origin header (browsers) are refused with 403
// unless the origin's host equals the Host header, or Options.CheckOrigin
// allows them: otherwise any web page could drive a local node through a
// visitor's browser, which matters most with NoAuth.
//
// # Limits
//
// All inputs from the network are untrusted; none can panic the server.
// Defaults (Options fields; zero means default):
//
//	MaxBodyBytes            16 MiB (2 × celestia-app MaxTxSize); larger → HTTP 413
//	MaxWSMessageBytes       16 MiB; larger → connection closed with code 1009
//	MaxBatch                100 requests; more → -32600
//	MaxConcurrentHTTP       256 HTTP requests server-wide; more wait before their body is read
//	MaxConcurrentPerConn    64 messages executing per WebSocket connection; more → -32000
//	MaxSubscriptionsPerConn 64; more → -32000
//	MaxWSConns              512; more → HTTP 503
//	WSWriteQueueMessages    1024 and WSWriteQueueBytes 64 MiB queued per WebSocket client;
//	                        overflow → close code 1008 "rpc: write queue overflow …"
//	WSWriteTimeout          30 s per WebSocket message written
//	WSPingInterval          30 s; a client silent (no message, no pong) for 60 s is dropped
//
// NewHTTPServer and ListenAndServe add the HTTP timeouts (headers 10 s,
// whole request 2 min, response 10 min, idle 2 min) and a graceful
// shutdown of 10 s.
//
// # Caller's duties
//
// Handlers run concurrently and get a context that carries the caller's
// permissions (PermsFromContext) and is cancelled when the client
// disconnects or cancels. A subscription handler must stop sending and
// close its channel when that context ends. Options.Observe receives the
// method, latency and error of every call for metrics; Options.Logger
// receives handler panics.
//
// # Large payloads
//
// A request or response is checked to be JSON once, with a validator that
// gives json.Valid's verdict but checks string contents a word at a time;
// after that the envelope and the params are split without re-scanning
// them (internal/jsonscan). A param whose type has UnmarshalJSON (or a
// slice of such, like blob.Submit's []*blob.Blob) gets its raw bytes
// directly, and a result with an AppendJSON(dst []byte) ([]byte, error)
// method (blob.Blob) writes itself into the response; the client does the
// same for params and results. Values, errors and bytes on the wire are
// those encoding/json gives; the fuzz targets of fastjson_test.go check
// it.
//
// # Differences from go-jsonrpc
//
// Deliberate: HTTP status 200 (not 500) for method-not-found and param
// errors; a null id is answered (JSON-RPC 2.0) rather than treated as a
// notification; "jsonrpc":"2.0" is required; malformed WebSocket messages
// are answered rather than ignored; a token in the "token" query
// parameter is not accepted; cross-origin requests are refused by default.
package rpc
