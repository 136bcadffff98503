// Package redisconn opens Reflex's Redis connection: a real server named by
// a redis:// or rediss:// URL, the primary that Redis Sentinel names
// (redis-sentinel://), a Redis Cluster (redis-cluster://), or an embedded
// in-memory server when no URL is given. Everything above it runs the same
// code on all of them.
package redisconn

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts on every Redis call, so an unreachable server turns into a
// prompt error (and a 503 at the intake) instead of a hung request.
const (
	dialTimeout  = 2 * time.Second
	readTimeout  = 3 * time.Second
	writeTimeout = 3 * time.Second
	pingTimeout  = 5 * time.Second
)

// PoolSize is how many connections to Redis a process opens at most, unless
// REDIS_URL says otherwise (pool_size=N): enough for the webhooks in
// flight and the worker's tasks to wait for Redis side by side, not for a
// free connection.
const PoolSize = 128

// Conn is an open Redis connection.
type Conn struct {
	// Client is the connection pool.
	Client redis.UniversalClient
	// Embedded is true when Client talks to the in-memory server.
	Embedded bool
	// Mode is how Client reaches Redis: one server, through Sentinel,
	// a cluster, or the embedded server.
	Mode Mode
	// Addr is a printable address, without credentials.
	Addr string

	embedded *Embedded
}

// EmbeddedWarning is logged once when Reflex runs on the embedded Redis.
const EmbeddedWarning = "REDIS_URL is not set: using an embedded in-memory Redis. Nothing survives a restart: queued jobs, events and live state are lost when Reflex stops. Set REDIS_URL to a real Redis for anything but a trial."

// Open connects to the Redis at rawURL, or starts an embedded one when
// rawURL is empty, listening on embeddedAddr (default: a free port on
// 127.0.0.1), and checks it answers.
func Open(ctx context.Context, rawURL, embeddedAddr string, log *slog.Logger) (*Conn, error) {
	if rawURL == "" {
		return openEmbedded(embeddedAddr, log)
	}
	set, err := parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL %s: %s", Redact(rawURL), hidePassword(rawURL, err))
	}
	c := &Conn{Client: set.newClient(), Mode: set.mode, Addr: Redact(rawURL)}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := c.Client.Ping(pctx).Err(); err != nil {
		_ = c.Client.Close()
		if set.mode == ModeSentinel {
			err = askSentinels(ctx, set.failover, err)
		}
		return nil, fmt.Errorf("cannot reach Redis at %s: %w", c.Addr, err)
	}
	log.Info("connected to Redis", "addr", c.Addr, "mode", c.Mode)
	return c, nil
}

func openEmbedded(addr string, log *slog.Logger) (*Conn, error) {
	e, err := StartEmbedded(addr)
	if err != nil {
		return nil, err
	}
	log.Warn(EmbeddedWarning, "addr", e.Addr())
	return &Conn{Client: e.NewClient(), Embedded: true, Mode: ModeEmbedded, Addr: "embedded:" + e.Addr(), embedded: e}, nil
}

// Close closes the pool and stops the embedded server, if any.
func (c *Conn) Close() error {
	err := c.Client.Close()
	if c.embedded != nil {
		c.embedded.Close()
	}
	return err
}

// secretParams are the query parameters of a REDIS_URL that hold a
// password.
var secretParams = []string{"password", "sentinel_password"}

// Redact returns a Redis URL without its passwords, for logs and errors:
// the one of its credentials, and those of its query (password,
// sentinel_password). It reads the URLs that name several hosts too.
func Redact(rawURL string) string {
	p, ok := splitURL(rawURL)
	if !ok {
		return "(unparseable URL)"
	}
	authority := p.hosts
	if p.userinfo != "" {
		user, _, hasPassword := strings.Cut(p.userinfo, ":")
		if hasPassword {
			user += ":xxxxx"
		}
		authority = user + "@" + authority
	}
	query := p.query
	q, err := url.ParseQuery(query)
	if err != nil {
		return "(unparseable URL)"
	}
	for _, name := range secretParams {
		if q.Has(name) {
			q.Set(name, "xxxxx")
			query = q.Encode()
		}
	}
	out := p.scheme + "://" + authority + p.path
	if p.hasQuery {
		out += "?" + query
	}
	return out + p.fragment
}

// urlParts are the parts of a URL, split without judging them.
type urlParts struct {
	scheme, userinfo, hosts, path, query, fragment string
	hasQuery                                       bool
}

// splitURL splits a URL into its parts; its authority may list several
// hosts. ok is false when it has no scheme.
func splitURL(rawURL string) (p urlParts, ok bool) {
	var rest string
	p.scheme, rest, ok = strings.Cut(rawURL, "://")
	if !ok {
		return p, false
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, p.fragment = rest[:i], rest[i:]
	}
	rest, p.query, p.hasQuery = strings.Cut(rest, "?")
	authority := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, p.path = rest[:i], rest[i:]
	}
	p.hosts = authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		p.userinfo, p.hosts = authority[:i], authority[i+1:]
	}
	return p, true
}

// secrets returns the passwords of a URL as it may be quoted: raw,
// decoded and query-escaped.
func secrets(rawURL string) []string {
	p, ok := splitURL(rawURL)
	if !ok {
		return nil
	}
	var raw []string
	if _, pw, ok := strings.Cut(p.userinfo, ":"); ok {
		raw = append(raw, pw)
	}
	for kv := range strings.SplitSeq(p.query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if slices.Contains(secretParams, k) {
			raw = append(raw, v)
		}
	}
	var out []string
	for _, s := range raw {
		out = append(out, s)
		if d, err := url.PathUnescape(s); err == nil {
			out = append(out, d, url.QueryEscape(d))
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// hidePassword returns a parser's message about rawURL, which may quote
// it, or the URL it was turned into, without its passwords.
func hidePassword(rawURL string, err error) string {
	msg := strings.ReplaceAll(err.Error(), rawURL, Redact(rawURL))
	for _, s := range secrets(rawURL) {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}

// RouteLogs sends the Redis client library's own messages (dial failures
// while a server is down, say) to log at debug level instead of stderr:
// Reflex reports the failures that matter itself.
func RouteLogs(log *slog.Logger) {
	redis.SetLogger(printfLogger{log})
}

type printfLogger struct{ log *slog.Logger }

func (l printfLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}
