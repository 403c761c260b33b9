package rpc

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzServeRequest feeds arbitrary bytes as HTTP request bodies. The server
// must never panic and must always answer with a JSON-RPC response (or a
// batch of them), with 204 for notifications only, or with an HTTP error
// that carries a JSON-RPC error body.
func FuzzServeRequest(f *testing.F) {
	s, err := NewServer(Options{NoAuth: true, MaxBodyBytes: 1 << 16, MaxBatch: 16})
	if err != nil {
		f.Fatal(err)
	}
	register(f, s, newProbe(), false) // no blocking methods
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[1,2]}`,
		`{"jsonrpc":"2.0","id":"x","method":"test.Ns","params":[1,"AAECAw=="]}`,
		`{"jsonrpc":"2.0","method":"test.Echo","params":["n"]}`,
		`[{"jsonrpc":"2.0","id":1,"method":"test.Panic"},{"jsonrpc":"2.0","id":2,"method":"test.Count","params":[1]}]`,
		`{"jsonrpc":"2.0","id":1,"method":"xrpc.cancel","params":[1]}`,
		`{"jsonrpc":"2.0","id":{},"method":"test.Echo"}`,
		`[]`, `[1,2]`, `{`, `null`, ``, "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		s.ServeHTTP(rec, req)
		out := rec.Body.Bytes()
		switch rec.Code {
		case http.StatusNoContent:
			if len(out) != 0 {
				t.Fatalf("204 with body %q", out)
			}
			return
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		checkJSONRPCResponse(t, out, rec.Code)
	})
}

// checkJSONRPCResponse checks b is one response object, or (only with
// status 200) a non-empty array of them.
func checkJSONRPCResponse(t *testing.T, b []byte, status int) {
	t.Helper()
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		if status != http.StatusOK {
			t.Fatalf("batch answer with status %d", status)
		}
		var arr []json.RawMessage
		if err := json.Unmarshal(b, &arr); err != nil || len(arr) == 0 {
			t.Fatalf("batch answer %q: %v", b, err)
		}
		for _, r := range arr {
			checkResponseObject(t, r)
		}
		return
	}
	checkResponseObject(t, b)
}

func checkResponseObject(t *testing.T, b []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("response %q is not an object: %v", b, err)
	}
	if string(m["jsonrpc"]) != `"2.0"` {
		t.Fatalf("response %q: jsonrpc", b)
	}
	if _, ok := m["id"]; !ok {
		t.Fatalf("response %q has no id", b)
	}
	_, hasResult := m["result"]
	e, hasError := m["error"]
	if hasResult == hasError || len(m) != 3 {
		t.Fatalf("response %q: want exactly jsonrpc, id and one of result/error", b)
	}
	if hasError {
		var eo struct {
			Code    *int    `json:"code"`
			Message *string `json:"message"`
		}
		if err := json.Unmarshal(e, &eo); err != nil || eo.Code == nil || eo.Message == nil {
			t.Fatalf("error object %q", e)
		}
	}
}
