package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestErrorCodesHTTP(t *testing.T) {
	e := newEnv(t, Options{})
	read := bearer(e.token(t, PermRead))
	for _, tc := range []struct {
		name    string
		body    string
		status  int
		id      string // expected raw id in the response
		code    int    // 0: success
		result  string // expected raw result on success
		message string // substring of the error message
	}{
		{"ok", `{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[2,3]}`, 200, "1", 0, "5", ""},
		{"string id", `{"jsonrpc":"2.0","id":"abc","method":"test.Echo","params":["hi"]}`, 200, `"abc"`, 0, `"hi"`, ""},
		{"null id answered", `{"jsonrpc":"2.0","id":null,"method":"test.Echo","params":["hi"]}`, 200, "null", 0, `"hi"`, ""},
		{"no params for zero-arg method", `{"jsonrpc":"2.0","id":2,"method":"test.Perms"}`, 200, "2", 0, `["public","read"]`, ""},
		{"self-validating param accepted", `{"jsonrpc":"2.0","id":3,"method":"test.Ns","params":[7,"AAECAw=="]}`, 200, "3", 0, `"7:00010203"`, ""},
		{"parse error", `{"jsonrpc":"2.0","id":1,"method":`, 400, "null", CodeParseError, "", "parse error"},
		{"parse error garbage", `\x00\x01`, 400, "null", CodeParseError, "", "parse error"},
		{"empty body", ``, 400, "null", CodeInvalidRequest, "", "empty"},
		{"not an object", `42`, 400, "null", CodeInvalidRequest, "", "not a JSON object"},
		{"missing jsonrpc", `{"id":1,"method":"test.Echo","params":["x"]}`, 400, "1", CodeInvalidRequest, "", `"jsonrpc" must be "2.0"`},
		{"wrong jsonrpc", `{"jsonrpc":"1.0","id":1,"method":"test.Echo","params":["x"]}`, 400, "1", CodeInvalidRequest, "", `"jsonrpc" must be "2.0"`},
		{"method not string", `{"jsonrpc":"2.0","id":1,"method":5}`, 400, "1", CodeInvalidRequest, "", `"method" must be a string`},
		{"id object", `{"jsonrpc":"2.0","id":{},"method":"test.Echo"}`, 400, "null", CodeInvalidRequest, "", "id must be"},
		{"params scalar", `{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":"x"}`, 400, "1", CodeInvalidRequest, "", `"params" must be an array`},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"blob.Nope","params":[]}`, 200, "1", CodeMethodNotFound, "", "method 'blob.Nope' not found"},
		{"too few params", `{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[1]}`, 200, "1", CodeInvalidParams, "", "wrong param count (method 'test.Add'): got 1, want 2 (a uint64, b uint64)"},
		{"too many params", `{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[1,2,3]}`, 200, "1", CodeInvalidParams, "", "got 3, want 2"},
		{"wrong param type", `{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[1,"two"]}`, 200, "1", CodeInvalidParams, "", "invalid param 2 (b uint64) of 'test.Add'"},
		{"negative uint", `{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[-1,2]}`, 200, "1", CodeInvalidParams, "", "invalid param 1 (a uint64)"},
		{"self-validating param", `{"jsonrpc":"2.0","id":1,"method":"test.Ns","params":[1,"AAEC"]}`, 200, "1", CodeInvalidParams, "", "invalid param 2 (namespace rpc.ns4) of 'test.Ns': namespace must be 4 bytes, got 3"},
		{"named params", `{"jsonrpc":"2.0","id":1,"method":"test.Add","params":{"a":1}}`, 200, "1", CodeInvalidParams, "", "positional array"},
		{"handler error", `{"jsonrpc":"2.0","id":1,"method":"test.Fail","params":[]}`, 200, "1", CodeDefault, "", "blob: not found"},
		{"handler *Error code", `{"jsonrpc":"2.0","id":1,"method":"test.Coded","params":[]}`, 200, "1", 42, "", "custom"},
		{"panic", `{"jsonrpc":"2.0","id":1,"method":"test.Panic","params":[]}`, 200, "1", CodeInternalError, "", "internal error in method 'test.Panic'"},
		{"result fails to encode", `{"jsonrpc":"2.0","id":1,"method":"test.BadResult","params":[]}`, 200, "1", CodeInternalError, "", "encoding the result"},
		{"MarshalJSON panics", `{"jsonrpc":"2.0","id":1,"method":"test.PanicResult","params":[]}`, 200, "1", CodeInternalError, "", "internal error"},
		{"subscription over HTTP", `{"jsonrpc":"2.0","id":1,"method":"test.Count","params":[3]}`, 200, "1", CodeMethodNotFound, "", "needs a WebSocket connection"},
		{"xrpc.cancel over HTTP", `{"jsonrpc":"2.0","id":1,"method":"xrpc.cancel","params":[1]}`, 200, "1", CodeMethodNotFound, "", "only available over WebSocket"},
		{"empty batch", `[]`, 400, "null", CodeInvalidRequest, "", "empty batch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if strings.HasPrefix(body, `\x`) {
				body = "\x00\x01"
			}
			status, b := post(t, e.http.URL, read, []byte(body))
			if status != tc.status {
				t.Errorf("status %d, want %d (body %s)", status, tc.status, b)
			}
			r := decodeResp(t, b)
			if string(r.ID) != tc.id {
				t.Errorf("id %s, want %s", r.ID, tc.id)
			}
			if tc.code == 0 {
				if r.Error != nil || string(r.Result) != tc.result {
					t.Fatalf("got %s, want result %s", b, tc.result)
				}
				return
			}
			if r.Error == nil || r.Result != nil {
				t.Fatalf("got %s, want an error and no result", b)
			}
			if r.Error.Code != tc.code || !strings.Contains(r.Error.Message, tc.message) {
				t.Fatalf("error %+v, want code %d containing %q", r.Error, tc.code, tc.message)
			}
		})
	}
}

func TestNotificationsHTTP(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	for _, body := range []string{
		`{"jsonrpc":"2.0","method":"test.Echo","params":["x"]}`,
		`{"jsonrpc":"2.0","method":"nope.Nope"}`,
		`[{"jsonrpc":"2.0","method":"test.Echo","params":["x"]},{"jsonrpc":"2.0","method":"test.Fail"}]`,
	} {
		status, b := post(t, e.http.URL, "", []byte(body))
		if status != http.StatusNoContent || len(b) != 0 {
			t.Errorf("%s: status %d body %q, want 204 and no body", body, status, b)
		}
	}
}

func TestBatch(t *testing.T) {
	e := newEnv(t, Options{MaxBatch: 5})
	read := bearer(e.token(t, PermRead))
	body := `[
		{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[1,1]},
		{"jsonrpc":"2.0","method":"test.Echo","params":["notification"]},
		{"jsonrpc":"2.0","id":"b","method":"test.Fail"},
		42,
		{"jsonrpc":"2.0","id":3,"method":"test.Write"}
	]`
	status, b := post(t, e.http.URL, read, []byte(body))
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var rs []wireResp
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if len(rs) != 4 {
		t.Fatalf("got %d responses, want 4 (one per non-notification): %s", len(rs), b)
	}
	if string(rs[0].ID) != "1" || string(rs[0].Result) != "2" {
		t.Errorf("response 0: %s", b)
	}
	if string(rs[1].ID) != `"b"` || rs[1].Error == nil || rs[1].Error.Message != "blob: not found" {
		t.Errorf("response 1: %s", b)
	}
	if string(rs[2].ID) != "null" || rs[2].Error == nil || rs[2].Error.Code != CodeInvalidRequest {
		t.Errorf("response 2: %s", b)
	}
	if string(rs[3].ID) != "3" || rs[3].Error == nil || rs[3].Error.Message != "missing permission to invoke 'test.Write' (need 'write')" {
		t.Errorf("response 3: %s", b)
	}

	tooMany := "[" + strings.Repeat(`{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["x"]},`, 5) + `{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["x"]}]`
	status, b = post(t, e.http.URL, read, []byte(tooMany))
	r := decodeResp(t, b)
	if status != 400 || r.Error == nil || r.Error.Code != CodeInvalidRequest || !strings.Contains(r.Error.Message, "limit of 5") {
		t.Errorf("batch of 6 over limit 5: status %d body %s", status, b)
	}
}

func TestPermissionMatrix(t *testing.T) {
	e := newEnv(t, Options{})
	methods := map[Perm]string{PermPublic: "test.Echo", PermRead: "test.Perms", PermWrite: "test.Write", PermAdmin: "test.Admin"}
	params := map[string]string{"test.Echo": `["x"]`, "test.Perms": `[]`, "test.Write": `[]`, "test.Admin": `[]`}
	// test.Perms is public; use test.Add for read.
	methods[PermRead], params["test.Add"] = "test.Add", `[1,2]`
	for _, caller := range []Perm{"", PermRead, PermWrite, PermAdmin} {
		held := PermsFor(caller)
		if caller == "" {
			held = []Perm{PermPublic}
		}
		for _, need := range []Perm{PermPublic, PermRead, PermWrite, PermAdmin} {
			name := fmt.Sprintf("caller=%s/need=%s", cmp(caller, "none"), need)
			t.Run(name, func(t *testing.T) {
				m := methods[need]
				body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q,"params":%s}`, m, params[m])
				_, b := post(t, e.http.URL, bearer(e.token(t, caller)), []byte(body))
				r := decodeResp(t, b)
				if slices.Contains(held, need) {
					if r.Error != nil {
						t.Fatalf("denied: %s", b)
					}
					if m == "test.Write" && string(r.Result) != "null" {
						t.Fatalf("error-only method answered %s, want result null", b)
					}
					return
				}
				want := fmt.Sprintf("missing permission to invoke '%s' (need '%s')", m, need)
				if r.Error == nil || r.Error.Code != CodeDefault || r.Error.Message != want {
					t.Fatalf("got %s, want code 1 %q", b, want)
				}
			})
		}
	}
	// The handler's context carries exactly the granted set.
	_, b := post(t, e.http.URL, bearer(e.token(t, PermWrite)), []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Perms"}`))
	if r := decodeResp(t, b); string(r.Result) != `["public","read","write"]` {
		t.Errorf("write token perms in ctx: %s", b)
	}
	// A token allowing only "admin" still gets public, but not read.
	only, err := NewToken(e.secret, []Perm{PermAdmin}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	_, b = post(t, e.http.URL, bearer(only), []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Perms"}`))
	if r := decodeResp(t, b); string(r.Result) != `["public","admin"]` {
		t.Errorf("admin-only token perms in ctx: %s", b)
	}
}

func cmp(p Perm, empty string) string {
	if p == "" {
		return empty
	}
	return string(p)
}

func TestAuthFailures(t *testing.T) {
	e := newEnv(t, Options{})
	otherSecret, _ := NewSecret()
	forged, _ := NewToken(otherSecret, PermsFor(PermAdmin), time.Time{})
	expired, _ := NewToken(e.secret, PermsFor(PermAdmin), time.Now().Add(-time.Minute))
	none := signNone(`{"Allow":["public","read","write","admin"],"Nonce":null,"ExpiresAt":"0001-01-01T00:00:00Z"}`)
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["x"]}`)
	for _, tc := range []struct {
		name, auth, message string
	}{
		{"forged", "Bearer " + forged, "bad signature"},
		{"expired", "Bearer " + expired, "expired"},
		{"alg none", "Bearer " + none, "not HS256"},
		{"garbage token", "Bearer garbage", "malformed"},
		{"basic auth", "Basic dXNlcjpwYXNz", `not "Bearer <token>"`},
		{"bearer without token", "Bearer", `not "Bearer <token>"`},
		{"bearer blank token", "Bearer    ", `not "Bearer <token>"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b := post(t, e.http.URL, tc.auth, body)
			if status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", status)
			}
			r := decodeResp(t, b)
			if r.Error == nil || r.Error.Code != CodeUnauthorized || !strings.Contains(r.Error.Message, tc.message) {
				t.Fatalf("body %s, want code %d containing %q", b, CodeUnauthorized, tc.message)
			}
			// The WebSocket handshake is refused the same way.
			_, err := DialWS(context.Background(), e.wsURL(), strings.TrimPrefix(tc.auth, "Bearer "))
			if tc.auth[:6] == "Bearer" && strings.TrimSpace(strings.TrimPrefix(tc.auth, "Bearer")) != "" {
				var re *Error
				if !asError(err, &re) || re.Code != CodeUnauthorized {
					t.Fatalf("DialWS: %v, want *Error with code %d", err, CodeUnauthorized)
				}
			}
		})
	}
	// Without a token: public only, or 401 when AuthRequired.
	status, _ := post(t, e.http.URL, "", body)
	if status != 200 {
		t.Fatalf("no token: status %d", status)
	}
	req := newEnv(t, Options{AuthRequired: true})
	status, b := post(t, req.http.URL, "", body)
	if r := decodeResp(t, b); status != 401 || r.Error == nil || r.Error.Code != CodeUnauthorized {
		t.Fatalf("AuthRequired without token: %d %s", status, b)
	}
	status, _ = post(t, req.http.URL, bearer(req.token(t, PermRead)), body)
	if status != 200 {
		t.Fatalf("AuthRequired with token: status %d", status)
	}
	// NoAuth grants admin and ignores the header.
	na := newEnv(t, Options{NoAuth: true})
	_, b = post(t, na.http.URL, "Bearer garbage", []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Admin"}`))
	if r := decodeResp(t, b); string(r.Result) != "true" {
		t.Fatalf("NoAuth admin call: %s", b)
	}
}

func TestOptionsValidate(t *testing.T) {
	secret, _ := NewSecret()
	for _, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"zero options refused", Options{}, false},
		{"secret", Options{Secret: secret}, true},
		{"no auth", Options{NoAuth: true}, true},
		{"short secret", Options{Secret: secret[:16]}, false},
		{"contradiction", Options{NoAuth: true, AuthRequired: true}, false},
		{"negative body", Options{Secret: secret, MaxBodyBytes: -1}, false},
		{"negative queue", Options{Secret: secret, WSWriteQueueMessages: -1}, false},
		{"negative timeout", Options{Secret: secret, WSWriteTimeout: -time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewServer(tc.opts)
			if (err == nil) != tc.ok {
				t.Fatalf("NewServer: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	s, err := NewServer(Options{NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(context.Context) error { return nil }
	for _, tc := range []struct {
		name   string
		method string
		perm   Perm
		fn     any
		names  []string
	}{
		{"no dot", "Echo", PermRead, ok, nil},
		{"empty module", ".Echo", PermRead, ok, nil},
		{"space", "a. b", PermRead, ok, nil},
		{"reserved", "xrpc.cancel", PermRead, ok, nil},
		{"unknown perm", "a.B", "root", ok, nil},
		{"not a func", "a.B", PermRead, 42, nil},
		{"nil func", "a.B", PermRead, (func(context.Context) error)(nil), nil},
		{"no ctx", "a.B", PermRead, func(int) error { return nil }, nil},
		{"variadic", "a.B", PermRead, func(context.Context, ...int) error { return nil }, nil},
		{"no error", "a.B", PermRead, func(context.Context) int { return 0 }, nil},
		{"three results", "a.B", PermRead, func(context.Context) (int, int, error) { return 0, 0, nil }, nil},
		{"send-only chan", "a.B", PermRead, func(context.Context) (chan<- int, error) { return nil, nil }, nil},
		{"bidirectional chan", "a.B", PermRead, func(context.Context) (chan int, error) { return nil, nil }, nil},
		{"func param", "a.B", PermRead, func(context.Context, func()) error { return nil }, nil},
		{"interface param", "a.B", PermRead, func(context.Context, error) error { return nil }, nil},
		{"func result", "a.B", PermRead, func(context.Context) (func(), error) { return nil, nil }, nil},
		{"name count", "a.B", PermRead, func(context.Context, int) error { return nil }, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Register(tc.method, tc.perm, tc.fn, tc.names...); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if err := s.Register("a.B", PermRead, ok); err != nil {
		t.Fatal(err)
	}
	if err := s.Register("a.B", PermRead, ok); err == nil {
		t.Fatal("duplicate registered")
	}
	if err := s.Register("a.Any", PermRead, func(context.Context, any) (any, error) { return nil, nil }); err != nil {
		t.Fatalf("empty interface param: %v", err)
	}
	if got := s.Methods(); got["a.B"] != PermRead || len(got) != 2 {
		t.Fatalf("Methods() = %v", got)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true, MaxBodyBytes: 1024})
	pad := strings.Repeat("x", 1100)
	big := []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["` + pad + `"]}`)
	status, b := post(t, e.http.URL, "", big)
	r := decodeResp(t, b)
	if status != http.StatusRequestEntityTooLarge || r.Error == nil || r.Error.Code != CodeInvalidRequest || !strings.Contains(r.Error.Message, "1024 bytes") {
		t.Fatalf("declared length over limit: %d %s", status, b)
	}
	// Without Content-Length (chunked), the limit is found while reading.
	req, _ := http.NewRequest(http.MethodPost, e.http.URL, io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if r := decodeResp(t, b); resp.StatusCode != http.StatusRequestEntityTooLarge || r.Error == nil {
		t.Fatalf("chunked over limit: %d %s", resp.StatusCode, b)
	}
	// Exactly at the limit is fine.
	exact := []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["` + pad[:1024-len(`{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":[""]}`)] + `"]}`)
	if len(exact) != 1024 {
		t.Fatalf("test body is %d bytes", len(exact))
	}
	if status, b := post(t, e.http.URL, "", exact); status != 200 {
		t.Fatalf("body at limit: %d %s", status, b)
	}
}

func TestHTTPMethodAndOrigin(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	resp, err := http.Get(e.http.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if r := decodeResp(t, b); resp.StatusCode != http.StatusMethodNotAllowed || r.Error == nil {
		t.Fatalf("GET: %d %s", resp.StatusCode, b)
	}
	body := `{"jsonrpc":"2.0","id":1,"method":"test.Admin"}`
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"https://evil.example", http.StatusForbidden},
		{"http://" + strings.TrimPrefix(e.http.URL, "http://"), http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.http.URL, strings.NewReader(body))
		req.Header.Set("Origin", tc.origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("Origin %s: status %d (%s), want %d", tc.origin, resp.StatusCode, b, tc.status)
		}
	}
}

func TestPanicKeepsServing(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	for i := 0; i < 3; i++ {
		_, b := post(t, e.http.URL, "", []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Panic"}`))
		if r := decodeResp(t, b); r.Error == nil || r.Error.Code != CodeInternalError {
			t.Fatalf("panic: %s", b)
		}
		_, b = post(t, e.http.URL, "", []byte(`{"jsonrpc":"2.0","id":2,"method":"test.Echo","params":["still here"]}`))
		if r := decodeResp(t, b); string(r.Result) != `"still here"` {
			t.Fatalf("after panic: %s", b)
		}
	}
}

func TestHTTPDisconnectCancelsHandler(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(e.http.URL, "http://"), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"jsonrpc":"2.0","id":1,"method":"test.Block"}`
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	waitFor(t, e.probe.started, "test.Block")
	conn.Close()
	waitFor(t, e.probe.cancelled, "test.Block")
}

func TestHTTPFloodBounded(t *testing.T) {
	const limit, n = 4, 100
	e := newEnv(t, Options{NoAuth: true, MaxConcurrentHTTP: limit})
	var wg sync.WaitGroup
	results := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, b := post(t, e.http.URL, "", []byte(`{"jsonrpc":"2.0","id":1,"method":"test.Gate"}`))
			results <- string(b)
		}()
	}
	// Wait until the limit is reached, give the others time to pile up,
	// then open the gate.
	for i := 0; i < limit; i++ {
		waitFor(t, e.probe.started, "test.Gate")
	}
	time.Sleep(100 * time.Millisecond)
	if got := e.probe.active.Load(); got != limit {
		t.Fatalf("%d handlers running while %d requests wait, want %d", got, n, limit)
	}
	e.probe.release()
	wg.Wait()
	close(results)
	for b := range results {
		if r := decodeResp(t, []byte(b)); r.Error != nil {
			t.Fatalf("flooded request failed: %s", b)
		}
	}
	if m := e.probe.maxActive.Load(); m > limit {
		t.Fatalf("max concurrent handlers %d > limit %d", m, limit)
	}
}

func TestObserve(t *testing.T) {
	type obs struct {
		method string
		code   int
	}
	var mu sync.Mutex
	var got []obs
	e := newEnv(t, Options{NoAuth: true, Observe: func(m string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		o := obs{method: m}
		if err != nil {
			o.code = err.(*Error).Code
		}
		if d < 0 {
			o.code = -1
		}
		got = append(got, o)
	}})
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"test.Echo","params":["x"]}`,
		`{"jsonrpc":"2.0","id":1,"method":"test.Fail"}`,
		`{"jsonrpc":"2.0","id":1,"method":"test.Add","params":[]}`,
		`{"jsonrpc":"2.0","id":1,"method":"unknown.Method"}`,
	} {
		post(t, e.http.URL, "", []byte(body))
	}
	mu.Lock()
	defer mu.Unlock()
	want := []obs{{"test.Echo", 0}, {"test.Fail", CodeDefault}, {"test.Add", CodeInvalidParams}}
	if !slices.Equal(got, want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
}

func TestListenAndServe(t *testing.T) {
	s, err := NewServer(Options{NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	register(t, s, newProbe(), false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done, err := ListenAndServe(ctx, "127.0.0.1:0", s)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(ctx, "http://"+addr.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out string
	if err := c.Call(ctx, "test.Echo", &out, "hello"); err != nil || out != "hello" {
		t.Fatalf("call: %q %v", out, err)
	}
	ws, err := DialWS(ctx, "ws://"+addr.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("no shutdown")
	}
	// The WebSocket client was disconnected by the shutdown.
	cctx, ccancel := context.WithTimeout(context.Background(), testTimeout)
	defer ccancel()
	if err := ws.Call(cctx, "test.Echo", &out, "x"); err == nil {
		t.Fatal("WebSocket call after shutdown succeeded")
	}
}
