package redisconn

import (
	"fmt"
	"sync"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	lua "github.com/yuin/gopher-lua"
)

// Embedded is an in-memory Redis server on a local port, for trials and
// tests. Nothing is persisted. Keys with a TTL expire in real time, to
// within one sweep (a quarter of a second), early or late: each sweep
// counts the time since the one before against every key, one set in
// between included. When the server holds very many keys, the sweeps are
// spaced out so that they take at most a fiftieth of the time, and the
// margin grows with them.
type Embedded struct {
	mini    *miniredis.Miniredis
	expirer *expirer
	wg      sync.WaitGroup
	once    sync.Once
}

// StartEmbedded starts an embedded Redis listening on addr, or on a free
// port of 127.0.0.1 when addr is empty.
func StartEmbedded(addr string) (*Embedded, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	mini := miniredis.NewMiniRedis()
	if err := mini.StartAddr(addr); err != nil {
		return nil, fmt.Errorf("start embedded Redis on %s: %w", addr, err)
	}
	e := &Embedded{mini: mini, expirer: newExpirer(expirerParams{
		mini: mini, interval: expiryInterval, budget: expiryBudget,
	})}
	e.expirer.start(&e.wg)
	return e, nil
}

// Addr returns the host:port the server listens on.
func (e *Embedded) Addr() string { return e.mini.Addr() }

// NewClient returns a client of the server with Reflex's timeouts, whose
// blocking stream reads (XREAD ... BLOCK) wait in the client instead of
// in the server: the server would re-run a blocked read after
// every command it executes, at the cost of a scan of the whole stream
// each time. Other clients of the server work too, only slower.
func (e *Embedded) NewClient() *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr: e.Addr(), DialTimeout: dialTimeout, ReadTimeout: readTimeout, WriteTimeout: writeTimeout,
	})
	c.AddHook(newPollReads(readPoll))
	return c
}

// Close stops expiring keys and stops the server, dropping everything it
// held. It may be called more than once.
func (e *Embedded) Close() {
	e.once.Do(func() {
		e.expirer.shutdown()
		e.wg.Wait()
		e.mini.Close()
	})
}

// The embedded server runs each script in a new Lua state, whose value
// stack and call stack gopher-lua allocates whole: 5,120 values and 256
// frames by default, some 100 KB for every script run and the larger
// part of the garbage a webhook leaves. Reflex's scripts and asynq's need
// far less (the longest unpack is 100 values, calls nest a few deep), so
// the states start small: set before any state exists.
const (
	luaValueStack = 1024
	luaCallStack  = 64
)

func init() {
	lua.RegistrySize = luaValueStack
	lua.CallStackSize = luaCallStack
}
