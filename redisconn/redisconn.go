// Package redisconn opens Reflex's Redis connection: a real server named by
// a redis:// or rediss:// URL, or an embedded in-memory one when no URL is
// given. Everything above it runs the same code on both.
package redisconn

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
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
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		// The parser's message may quote the URL, password included.
		msg := strings.ReplaceAll(err.Error(), rawURL, Redact(rawURL))
		if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				msg = strings.ReplaceAll(msg, pw, "xxxxx")
			}
		} else if perr != nil {
			msg = "not a redis:// or rediss:// URL"
		}
		return nil, fmt.Errorf("REDIS_URL %s: %s", Redact(rawURL), msg)
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = dialTimeout, readTimeout, writeTimeout
	if opts.PoolSize == 0 {
		opts.PoolSize = PoolSize
	}
	c := &Conn{Client: redis.NewClient(opts), Addr: Redact(rawURL)}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := c.Client.Ping(pctx).Err(); err != nil {
		_ = c.Client.Close()
		return nil, fmt.Errorf("cannot reach Redis at %s: %w", c.Addr, err)
	}
	log.Info("connected to Redis", "addr", c.Addr)
	return c, nil
}

func openEmbedded(addr string, log *slog.Logger) (*Conn, error) {
	e, err := StartEmbedded(addr)
	if err != nil {
		return nil, err
	}
	log.Warn(EmbeddedWarning, "addr", e.Addr())
	return &Conn{Client: e.NewClient(), Embedded: true, Addr: "embedded:" + e.Addr(), embedded: e}, nil
}

// Close closes the pool and stops the embedded server, if any.
func (c *Conn) Close() error {
	err := c.Client.Close()
	if c.embedded != nil {
		c.embedded.Close()
	}
	return err
}

// Redact returns a Redis URL without its password, for logs and errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
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
