package rpc

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Sizes of the secrets and nonces used by tokens.
const (
	// SecretSize is the size of a secret made by NewSecret, and the
	// minimum size NewToken, VerifyToken and NewServer accept (bytes).
	SecretSize = 32
	// NonceSize is the size of the random nonce in every token (bytes).
	NonceSize = 32
)

// tokenAlg is the only signing algorithm tokens may use.
const tokenAlg = "HS256"

// Token errors. Every error VerifyToken returns matches ErrInvalidToken
// with errors.Is; the more specific ones say why.
var (
	// ErrInvalidToken is the base of every token verification error.
	ErrInvalidToken = errors.New("rpc: invalid token")
	// ErrTokenMalformed: not three base64url segments of JSON, or claims
	// that do not have celestia-node's shape.
	ErrTokenMalformed = fmt.Errorf("%w: malformed", ErrInvalidToken)
	// ErrTokenAlgorithm: the header names an algorithm other than HS256
	// (including "none").
	ErrTokenAlgorithm = fmt.Errorf("%w: signing algorithm is not HS256", ErrInvalidToken)
	// ErrTokenSignature: the signature does not verify under the secret.
	ErrTokenSignature = fmt.Errorf("%w: bad signature", ErrInvalidToken)
	// ErrTokenExpired: the token's ExpiresAt is not after the current time.
	ErrTokenExpired = fmt.Errorf("%w: expired", ErrInvalidToken)
)

// ErrShortSecret is returned when a secret is shorter than SecretSize.
var ErrShortSecret = fmt.Errorf("rpc: secret shorter than %d bytes", SecretSize)

// tokenClaims is celestia-node's JWT payload (perms.JWTPayload). The field
// names and their order are part of the wire format:
//
//	{"Allow":["public","read"],"Nonce":"<base64 32B>","ExpiresAt":"<RFC3339>"}
//
// A zero ExpiresAt ("0001-01-01T00:00:00Z") means the token never expires.
// It implements jwt.Claims with no registered claims, so the library checks
// nothing but the signature; VerifyToken checks the rest.
type tokenClaims struct {
	Allow     []Perm
	Nonce     []byte
	ExpiresAt time.Time
}

func (tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (tokenClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (tokenClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (tokenClaims) GetIssuer() (string, error)                   { return "", nil }
func (tokenClaims) GetSubject() (string, error)                  { return "", nil }
func (tokenClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// NewSecret returns SecretSize random bytes from crypto/rand, suitable as
// the HS256 key of NewToken, VerifyToken and Options.Secret.
func NewSecret() ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("rpc: reading random secret: %w", err)
	}
	return b, nil
}

// NewToken returns an HS256 JWT granting perms, in celestia-node's format,
// with a fresh random nonce. A zero expiresAt makes a token that never
// expires. Use PermsFor to build the usual sets. It fails on a secret
// shorter than SecretSize, an empty perms list or an unknown permission.
func NewToken(secret []byte, perms []Perm, expiresAt time.Time) (string, error) {
	if len(secret) < SecretSize {
		return "", ErrShortSecret
	}
	if len(perms) == 0 {
		return "", errors.New("rpc: token must allow at least one permission")
	}
	for _, p := range perms {
		if !p.valid() {
			return "", fmt.Errorf("rpc: unknown permission %q", p)
		}
	}
	nonce := make([]byte, NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("rpc: reading random nonce: %w", err)
	}
	if !expiresAt.IsZero() {
		expiresAt = expiresAt.UTC()
	}
	claims := tokenClaims{Allow: append([]Perm(nil), perms...), Nonce: nonce, ExpiresAt: expiresAt}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("rpc: signing token: %w", err)
	}
	return s, nil
}

// VerifyToken checks a token made by NewToken (or by celestia-node from
// the same secret) and returns the permissions it allows. The token is
// untrusted input. It fails with ErrTokenAlgorithm unless the header says
// HS256 (so "none" and every other algorithm are refused), with
// ErrTokenSignature when the signature does not verify under secret, with
// ErrTokenExpired when ExpiresAt is set and not after now, and with
// ErrTokenMalformed for anything that does not parse or names an unknown
// permission. It returns ErrShortSecret for a short secret.
func VerifyToken(secret []byte, token string, now time.Time) ([]Perm, error) {
	if len(secret) < SecretSize {
		return nil, ErrShortSecret
	}
	var claims tokenClaims
	p := jwt.NewParser(jwt.WithValidMethods([]string{tokenAlg}))
	tok, err := p.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return secret, nil })
	if err != nil {
		if tok != nil && tok.Header != nil {
			if alg, _ := tok.Header["alg"].(string); alg != tokenAlg {
				return nil, fmt.Errorf("%w (got %.20q)", ErrTokenAlgorithm, alg)
			}
		}
		if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			return nil, ErrTokenSignature
		}
		return nil, fmt.Errorf("%w: %s", ErrTokenMalformed, shortErr(err))
	}
	for _, a := range claims.Allow {
		if !a.valid() {
			return nil, fmt.Errorf("%w: unknown permission %.20q", ErrTokenMalformed, a)
		}
	}
	if !claims.ExpiresAt.IsZero() && !now.Before(claims.ExpiresAt) {
		return nil, ErrTokenExpired
	}
	return claims.Allow, nil
}

// shortErr bounds an error message that may echo untrusted bytes.
func shortErr(err error) string { return bounded(err.Error(), 200) }

// bounded cuts s after max bytes and replaces invalid UTF-8, so that
// untrusted bytes echoed in a message stay short and printable.
func bounded(s string, max int) string {
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// bearerToken extracts the token from an "Authorization: Bearer <token>"
// header. present is false when there is no Authorization header at all;
// err is set when there is one that is not a bearer token.
func bearerToken(r *http.Request) (token string, present bool, err error) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return "", false, nil
	}
	if len(vals) > 1 {
		return "", true, fmt.Errorf("%w: more than one Authorization header", ErrInvalidToken)
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true, fmt.Errorf("%w: Authorization header is not \"Bearer <token>\"", ErrInvalidToken)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", true, fmt.Errorf("%w: empty bearer token", ErrInvalidToken)
	}
	return tok, true, nil
}
