package rpc

import (
	"errors"
	"fmt"
)

// JSON-RPC error codes the server sends. The -327xx/-326xx codes are the
// JSON-RPC 2.0 ones; CodeDefault is what celestia-node (go-jsonrpc) sends
// for every error a method returns, so clients see err.Error() unchanged.
const (
	// CodeParseError: the body or message is not JSON.
	CodeParseError = -32700
	// CodeInvalidRequest: JSON, but not a valid request object (also: an
	// empty or too long batch, a body over the size limit).
	CodeInvalidRequest = -32600
	// CodeMethodNotFound: no method of that name is registered (also, as in
	// go-jsonrpc, a subscription method called over plain HTTP).
	CodeMethodNotFound = -32601
	// CodeInvalidParams: wrong number of params, or a param that does not
	// decode into the handler's argument type.
	CodeInvalidParams = -32602
	// CodeInternalError: the handler panicked or its result did not encode.
	CodeInternalError = -32603
	// CodeServerBusy: a per-connection limit (concurrent calls or
	// subscriptions) was reached; the call was not run.
	CodeServerBusy = -32000
	// CodeUnauthorized: the bearer token is invalid, expired or forged, or
	// missing while Options.AuthRequired is set (sent with HTTP 401).
	CodeUnauthorized = -32001
	// CodeDefault: the method returned an error, or the caller lacks the
	// permission the method needs; the message is err.Error().
	CodeDefault = 1
)

// Error is a JSON-RPC error object: the "error" member of a response. The
// client returns it for every error response; a handler may return one
// (possibly wrapped) to choose the code the caller sees.
type Error struct {
	// Code is one of the Code… constants or an application code.
	Code int `json:"code"`
	// Message is the human-readable text; for CodeDefault, the handler's
	// err.Error().
	Message string `json:"message"`
}

// Error returns Message alone for application codes, so that an error a
// method returned reads the same on the client as on the server (as with
// go-jsonrpc), and "rpc error (code): message" for JSON-RPC and server codes
// (-32768..-32000).
func (e *Error) Error() string {
	if e.Code >= -32768 && e.Code <= -32000 {
		return fmt.Sprintf("rpc error (%d): %s", e.Code, e.Message)
	}
	return e.Message
}

// Errors the client returns besides *Error.
var (
	// ErrNeedWebSocket: Subscribe on a client made by Dial (HTTP).
	ErrNeedWebSocket = errors.New("rpc: subscriptions need a WebSocket connection (use DialWS)")
	// ErrClosed: the client was closed or its WebSocket connection ended.
	ErrClosed = errors.New("rpc: connection closed")
)

// toError turns a handler's error into the error object sent to callers:
// a wrapped *Error keeps its code and message, anything else becomes
// CodeDefault with err.Error().
func toError(err error) *Error {
	var re *Error
	if errors.As(err, &re) {
		return &Error{Code: re.Code, Message: re.Message}
	}
	return &Error{Code: CodeDefault, Message: err.Error()}
}

func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
