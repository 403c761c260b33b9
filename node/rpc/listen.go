package rpc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Timeouts of the http.Server made by NewHTTPServer. They do not apply to
// WebSocket connections once upgraded (those use the Options.WS… limits).
const (
	// HTTPReadHeaderTimeout bounds reading request headers.
	HTTPReadHeaderTimeout = 10 * time.Second
	// HTTPReadTimeout bounds reading a whole request, body included; a
	// DefaultMaxBodyBytes body needs about 1.1 Mbit/s.
	HTTPReadTimeout = 2 * time.Minute
	// HTTPWriteTimeout bounds a request from the end of its headers to the
	// end of its response, so it also bounds a handler's time to answer
	// (blob.Submit waits for inclusion).
	HTTPWriteTimeout = 10 * time.Minute
	// HTTPIdleTimeout bounds an idle keep-alive connection.
	HTTPIdleTimeout = 2 * time.Minute
	// HTTPMaxHeaderBytes bounds request headers (bytes).
	HTTPMaxHeaderBytes = 64 << 10
	// ShutdownTimeout bounds the graceful shutdown of ListenAndServe;
	// requests still running after it are cut off.
	ShutdownTimeout = 10 * time.Second
)

// NewHTTPServer returns an http.Server for h with the HTTP… timeouts above.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: HTTPReadHeaderTimeout,
		ReadTimeout:       HTTPReadTimeout,
		WriteTimeout:      HTTPWriteTimeout,
		IdleTimeout:       HTTPIdleTimeout,
		MaxHeaderBytes:    HTTPMaxHeaderBytes,
	}
}

// ListenAndServe listens on addr ("host:port"; port 0 picks a free one)
// and serves h with NewHTTPServer in the background. It returns once the
// listener is bound, with the bound address. When ctx ends the server
// shuts down gracefully (new connections refused, requests in progress
// given ShutdownTimeout to finish; if h is a *Server its WebSocket clients
// are disconnected with close code 1001), and done then receives the
// serving error (nil after a clean shutdown) and is closed.
func ListenAndServe(ctx context.Context, addr string, h http.Handler) (bound net.Addr, done <-chan error, err error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	srv := NewHTTPServer(h)
	if rs, ok := h.(*Server); ok {
		srv.RegisterOnShutdown(func() { _ = rs.Close() })
	}
	out := make(chan error, 1)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	go func() {
		defer close(out)
		select {
		case err := <-serveErr:
			out <- err // the listener failed on its own
			return
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil {
			_ = srv.Close()
		}
		if serr := <-serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		out <- err
	}()
	return ln.Addr(), out, nil
}
