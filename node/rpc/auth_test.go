package rpc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPermsFor(t *testing.T) {
	for _, tc := range []struct {
		level Perm
		want  []Perm
	}{
		{PermPublic, []Perm{"public"}},
		{PermRead, []Perm{"public", "read"}},
		{PermWrite, []Perm{"public", "read", "write"}},
		{PermAdmin, []Perm{"public", "read", "write", "admin"}},
		{"root", nil},
	} {
		t.Run(string(tc.level), func(t *testing.T) {
			if got := PermsFor(tc.level); !slices.Equal(got, tc.want) {
				t.Fatalf("PermsFor(%q) = %v, want %v", tc.level, got, tc.want)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != SecretSize || len(b) != SecretSize || string(a) == string(b) {
		t.Fatalf("secrets %x and %x: want two different %d-byte values", a, b, SecretSize)
	}
}

// signHS256 builds a token by hand, the way celestia-node's library does,
// independently of golang-jwt.
func signHS256(secret []byte, header, payload string) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(s))
	return s + "." + enc.EncodeToString(mac.Sum(nil))
}

func TestTokenWireFormat(t *testing.T) {
	secret, _ := NewSecret()
	tok, err := NewToken(secret, PermsFor(PermWrite), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q: want 3 segments", tok)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(header) != `{"alg":"HS256","typ":"JWT"}` {
		t.Errorf("header = %s", header)
	}
	p := string(payload)
	if !strings.HasPrefix(p, `{"Allow":["public","read","write"],"Nonce":"`) || !strings.HasSuffix(p, `","ExpiresAt":"0001-01-01T00:00:00Z"}`) {
		t.Errorf("payload = %s, want celestia-node's {Allow,Nonce,ExpiresAt}", p)
	}
	nonce := strings.TrimSuffix(strings.TrimPrefix(p, `{"Allow":["public","read","write"],"Nonce":"`), `","ExpiresAt":"0001-01-01T00:00:00Z"}`)
	if raw, err := base64.StdEncoding.DecodeString(nonce); err != nil || len(raw) != NonceSize {
		t.Errorf("nonce %q: want base64 of %d bytes (%v)", nonce, NonceSize, err)
	}
}

func TestVerifyToken(t *testing.T) {
	secret, _ := NewSecret()
	other, _ := NewSecret()
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	mk := func(perms []Perm, exp time.Time) string {
		tok, err := NewToken(secret, perms, exp)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	forged, _ := NewToken(other, PermsFor(PermAdmin), time.Time{})
	good := mk(PermsFor(PermRead), time.Time{})
	// A token with the payload of good but the signature cut off or swapped.
	goodParts := strings.Split(good, ".")
	celestia := signHS256(secret, `{"alg":"HS256","typ":"JWT"}`,
		`{"Allow":["public","read","write","admin"],"Nonce":"`+b64(make([]byte, 32))+`","ExpiresAt":"2026-09-01T00:00:00Z"}`)
	for _, tc := range []struct {
		name  string
		token string
		want  []Perm
		err   error
	}{
		{"read", good, []Perm{"public", "read"}, nil},
		{"admin no expiry", mk(PermsFor(PermAdmin), time.Time{}), PermsFor(PermAdmin), nil},
		{"not yet expired", mk(PermsFor(PermWrite), now.Add(time.Second)), PermsFor(PermWrite), nil},
		{"hand-signed celestia-node token", celestia, PermsFor(PermAdmin), nil},
		{"expired", mk(PermsFor(PermRead), now.Add(-time.Second)), nil, ErrTokenExpired},
		{"expires exactly now", mk(PermsFor(PermRead), now), nil, ErrTokenExpired},
		{"forged with other secret", forged, nil, ErrTokenSignature},
		{"signature swapped", goodParts[0] + "." + goodParts[1] + "." + strings.Split(forged, ".")[2], nil, ErrTokenSignature},
		{"no signature", goodParts[0] + "." + goodParts[1] + ".", nil, ErrTokenSignature},
		{"alg none", signNone(`{"Allow":["admin"],"Nonce":null,"ExpiresAt":"0001-01-01T00:00:00Z"}`), nil, ErrTokenAlgorithm},
		{"alg HS512", signHS256(secret, `{"alg":"HS512","typ":"JWT"}`, `{"Allow":["admin"]}`), nil, ErrTokenAlgorithm},
		{"alg missing", signHS256(secret, `{"typ":"JWT"}`, `{"Allow":["admin"]}`), nil, ErrTokenAlgorithm},
		{"garbage", "not-a-token", nil, ErrTokenMalformed},
		{"empty", "", nil, ErrTokenMalformed},
		{"four segments", good + ".x", nil, ErrTokenMalformed},
		{"payload not JSON", signHS256(secret, `{"alg":"HS256","typ":"JWT"}`, `not json`), nil, ErrTokenMalformed},
		{"Allow wrong type", signHS256(secret, `{"alg":"HS256","typ":"JWT"}`, `{"Allow":"admin"}`), nil, ErrTokenMalformed},
		{"unknown permission", signHS256(secret, `{"alg":"HS256","typ":"JWT"}`, `{"Allow":["root"],"ExpiresAt":"0001-01-01T00:00:00Z"}`), nil, ErrTokenMalformed},
		{"ExpiresAt not a time", signHS256(secret, `{"alg":"HS256","typ":"JWT"}`, `{"Allow":["read"],"ExpiresAt":"tomorrow"}`), nil, ErrTokenMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := VerifyToken(secret, tc.token, now)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("err = %v, want %v (and ErrInvalidToken)", err, tc.err)
				}
				if got != nil {
					t.Fatalf("perms = %v on error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("perms = %v, want %v", got, tc.want)
			}
		})
	}
}

func signNone(payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload)) + "."
}

func TestTokenArgumentErrors(t *testing.T) {
	secret, _ := NewSecret()
	if _, err := NewToken(secret[:31], PermsFor(PermRead), time.Time{}); !errors.Is(err, ErrShortSecret) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := NewToken(secret, nil, time.Time{}); err == nil {
		t.Error("empty perms: no error")
	}
	if _, err := NewToken(secret, []Perm{"root"}, time.Time{}); err == nil {
		t.Error("unknown perm: no error")
	}
	if _, err := VerifyToken(nil, "x.y.z", time.Now()); !errors.Is(err, ErrShortSecret) {
		t.Errorf("verify with empty secret: %v", err)
	}
}

func FuzzVerifyToken(f *testing.F) {
	secret := make([]byte, SecretSize)
	tok, _ := NewToken(secret, PermsFor(PermAdmin), time.Time{})
	f.Add(tok)
	f.Add(signNone(`{"Allow":["admin"]}`))
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		perms, err := VerifyToken(secret, token, time.Unix(0, 0))
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) || perms != nil {
				t.Fatalf("err %v (perms %v): want ErrInvalidToken and no perms", err, perms)
			}
			return
		}
		for _, p := range perms {
			if !p.valid() {
				t.Fatalf("accepted unknown permission %q", p)
			}
		}
	})
}
