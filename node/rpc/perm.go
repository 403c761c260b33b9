package rpc

import (
	"context"
	"slices"
)

// Perm is a permission named in a token's "Allow" list and required by a
// registered method. The four values match celestia-node's.
type Perm string

// The permissions, from least to most privileged.
const (
	// PermPublic is held by every caller, with or without a token.
	PermPublic Perm = "public"
	// PermRead allows reading chain data (blob.Get, header.*, share.*).
	PermRead Perm = "read"
	// PermWrite allows spending funds (blob.Submit, state.Transfer).
	PermWrite Perm = "write"
	// PermAdmin allows node administration (node.AuthNew, p2p.*).
	PermAdmin Perm = "admin"
)

// levels lists the permissions in order; PermsFor returns prefixes of it.
var levels = [...]Perm{PermPublic, PermRead, PermWrite, PermAdmin}

// valid reports whether p is one of the four known permissions.
func (p Perm) valid() bool {
	return slices.Contains(levels[:], p)
}

// PermsFor returns the permission set celestia-node issues for a token of
// the given level: PermRead gives [public read], PermWrite gives
// [public read write], PermAdmin gives all four and PermPublic gives
// [public]. It returns nil for an unknown level. The slice is fresh on
// every call.
func PermsFor(level Perm) []Perm {
	i := slices.Index(levels[:], level)
	if i < 0 {
		return nil
	}
	return slices.Clone(levels[:i+1])
}

type permsKey struct{}

// withPerms returns ctx carrying the caller's permissions.
func withPerms(ctx context.Context, perms []Perm) context.Context {
	return context.WithValue(ctx, permsKey{}, perms)
}

// PermsFromContext returns the permissions of the caller whose request ctx
// belongs to, as the server granted them (always including PermPublic).
// It returns nil for a context that did not come from this package's
// server. The returned slice must not be modified.
func PermsFromContext(ctx context.Context) []Perm {
	p, _ := ctx.Value(permsKey{}).([]Perm)
	return p
}

// HasPerm reports whether the caller of ctx holds permission p.
func HasPerm(ctx context.Context, p Perm) bool {
	return slices.Contains(PermsFromContext(ctx), p)
}

// grant normalises a verified token's Allow list into the set the server
// puts in handler contexts: duplicates removed, PermPublic always present.
func grant(allow []Perm) []Perm {
	out := []Perm{PermPublic}
	for _, p := range levels[1:] {
		if slices.Contains(allow, p) {
			out = append(out, p)
		}
	}
	return out
}
