package config

import (
	"fmt"
	"strconv"
	"strings"
)

// TOML renders c as a commented config.toml. Every key it writes is one the
// command line reads back into Config.
func (c *Config) TOML() string {
	var b strings.Builder
	q := strconv.Quote
	fmt.Fprintf(&b, `# Tessera node configuration.
# Every key can be overridden by a flag or by TESSERA_<SECTION>_<KEY>
# (for example TESSERA_RPC_ADDR=127.0.0.1:9000).

# What this node does: producer, full or light.
role = %s

[log]
# debug, info, warn or error.
level = %s
# text or json.
format = %s

[rpc]
# JSON-RPC 2.0 over HTTP and WebSocket. Empty disables the server.
addr = %s
# Largest request body accepted, in bytes.
max_body_bytes = %d
# When true, calls without a token are refused, even public ones.
auth_required = %t

[metrics]
# Prometheus metrics endpoint. Empty disables it.
addr = %s

[producer]
# Most blob data (bytes) waiting in the submission queue; beyond it
# submissions are refused until blocks drain the queue.
queue_max_bytes = %d

[store]
# Where the embedded store lives, relative to the home directory.
path = %s
# Squares older than this (by block time) are pruned, except blocks holding
# pinned namespaces; headers are kept forever. "0s" means the genesis
# sampling window.
prune_window = %s
# Keep every square forever (an archival node); prune_window is then ignored.
archival = %t

[p2p]
# libp2p listen multiaddrs (TCP and QUIC). Empty disables networking.
listen = %s
# Peers to join the network through: multiaddrs ending in /p2p/<peer ID>.
bootstrap = %s

[das]
# Samples per height (light nodes). 16 gives 99 %% confidence at any square
# width; 0 derives the count from confidence.
samples = %d
# Target confidence per height, used when samples = 0.
confidence = %v
# Heights sampled at once (the head and catch-up of older heights).
workers = %d
`, q(string(c.Role)), q(c.Log.Level), q(c.Log.Format), q(c.RPC.Addr), c.RPC.MaxBodyBytes, c.RPC.AuthRequired,
		q(c.Metrics.Addr), c.Producer.QueueMaxBytes, q(c.Store.Path), q(c.Store.PruneWindow.String()), c.Store.Archival,
		tomlList(c.P2P.Listen), tomlList(c.P2P.Bootstrap), c.DAS.Samples, c.DAS.Confidence, c.DAS.Workers)
	return b.String()
}

func tomlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
