// Package fleet keeps the live state's record of the agents that use the
// agent API: one agent object each, named by the agent's API key, with its
// zone, version, the actions its file defines, when it was last heard of,
// and the jobs it runs. Reflex writes it when an agent connects, while it
// heartbeats, and when it stops; an agent not heard of for a while is
// marked lost.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// The statuses of an agent object.
const (
	StatusConnected    = "connected"
	StatusDisconnected = "disconnected"
	StatusLost         = "lost"
)

// Defaults of the Fleet's zero fields.
const (
	// DefaultHeartbeat is how often agents are asked to heartbeat.
	DefaultHeartbeat = 20 * time.Second
	// DefaultSeenEvery is how stale an agent's last_seen may get before a
	// heartbeat writes it again.
	DefaultSeenEvery = time.Minute
	// DefaultLostAfter is how long an agent may go unheard of before it is
	// marked lost.
	DefaultLostAfter = 3 * time.Minute
)

// writer is who agent objects are written by.
const writer = "reflex:agents"

// ErrWrongZone is wrapped when an agent says it serves another zone than
// its key is bound to.
var ErrWrongZone = errors.New("the agent's zone is not its key's")

// Fleet writes agent objects. Its exported fields are set before first
// use; zero values take the documented defaults.
type Fleet struct {
	// Store holds the agent objects. Required.
	Store *state.Store
	// Log receives what the fleet does on its own. Required.
	Log *slog.Logger
	// Now is the clock of last_seen. Default time.Now.
	Now func() time.Time
	// HeartbeatInterval is how often agents heartbeat (DefaultHeartbeat).
	HeartbeatInterval time.Duration
	// SeenEvery bounds how stale last_seen gets (DefaultSeenEvery): a
	// heartbeat that changes nothing else writes only this often, so that
	// agents do not flood the change stream.
	SeenEvery time.Duration
	// LostAfter is how long an agent goes unheard of before Reap marks it
	// lost (DefaultLostAfter).
	LostAfter time.Duration
}

func (f *Fleet) now() time.Time {
	if f.Now != nil {
		return f.Now().UTC()
	}
	return time.Now().UTC()
}

// HeartbeatEvery returns how often agents heartbeat.
func (f *Fleet) HeartbeatEvery() time.Duration {
	if f.HeartbeatInterval > 0 {
		return f.HeartbeatInterval
	}
	return DefaultHeartbeat
}

func (f *Fleet) seenEvery() time.Duration {
	if f.SeenEvery > 0 {
		return f.SeenEvery
	}
	return DefaultSeenEvery
}

func (f *Fleet) lostAfter() time.Duration {
	if f.LostAfter > 0 {
		return f.LostAfter
	}
	return DefaultLostAfter
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Connect records an agent that connects, as it describes itself; its
// name and zone come from its key. An agent started for another zone than
// its key's is refused with ErrWrongZone.
func (f *Fleet) Connect(ctx context.Context, caller *auth.Caller, h wire.Hello) error {
	if h.Zone != caller.Zone {
		return fmt.Errorf("%w: agent %s was started for zone %q, and its key is bound to zone %q", ErrWrongZone, caller.Name, h.Zone, caller.Zone)
	}
	now := stamp(f.now())
	actions := make([]any, 0, len(h.Actions))
	for _, a := range slices.Sorted(slices.Values(h.Actions)) {
		actions = append(actions, a)
	}
	return f.write(ctx, caller, func(c map[string]any) {
		c["status"], c["connected_at"], c["last_seen"] = StatusConnected, now, now
		c["actions"], c["concurrency"], c["jobs"] = actions, max(h.Concurrency, 1), []any{}
		setOrDrop(c, "version", h.Version)
		setOrDrop(c, "hostname", h.Hostname)
	})
}

// Heartbeat records that an agent is alive and the jobs it runs. It
// writes only when something changed, or last_seen is older than
// SeenEvery.
func (f *Fleet) Heartbeat(ctx context.Context, caller *auth.Caller, hb wire.Heartbeat) error {
	now := f.now()
	jobs := make([]any, 0, len(hb.Jobs))
	for _, j := range slices.Sorted(slices.Values(hb.Jobs)) {
		jobs = append(jobs, j)
	}
	return f.write(ctx, caller, func(c map[string]any) {
		last, _ := c["last_seen"].(string)
		seen, _ := time.Parse(time.RFC3339Nano, last)
		running, _ := c["jobs"].([]any)
		same := c["status"] == StatusConnected && slices.Equal(running, jobs)
		if same && now.Sub(seen) < f.seenEvery() {
			return
		}
		c["status"], c["last_seen"], c["jobs"] = StatusConnected, stamp(now), jobs
		if _, ok := c["connected_at"]; !ok {
			c["connected_at"] = stamp(now)
		}
	})
}

// Disconnect records an agent that stops.
func (f *Fleet) Disconnect(ctx context.Context, caller *auth.Caller) error {
	return f.write(ctx, caller, func(c map[string]any) {
		c["status"], c["last_seen"], c["jobs"] = StatusDisconnected, stamp(f.now()), []any{}
	})
}

// write changes an agent's object through change, creating it when it is
// new; a change that changes nothing writes nothing.
func (f *Fleet) write(ctx context.Context, caller *auth.Caller, change func(content map[string]any)) error {
	_, err := f.Store.Upsert(ctx, state.TypeAgent, caller.Name, writer, func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		next.Content["name"], next.Content["zone"] = caller.Name, caller.Zone
		if _, ok := next.Content["status"]; !ok {
			next.Content["status"] = StatusConnected
		}
		change(next.Content)
		return next, nil
	})
	if err != nil {
		return fmt.Errorf("record agent %s: %w", caller.Name, err)
	}
	return nil
}

func setOrDrop(c map[string]any, key, value string) {
	if value == "" {
		delete(c, key)
		return
	}
	c[key] = value
}

// Reap marks lost the connected agents not heard of for LostAfter, and
// returns how many.
func (f *Fleet) Reap(ctx context.Context) (int, error) {
	agents, err := f.Store.Objects(ctx, state.TypeAgent, "")
	if err != nil {
		return 0, err
	}
	now, n := f.now(), 0
	for _, a := range agents {
		seen, err := time.Parse(time.RFC3339Nano, fmt.Sprint(a.Content["last_seen"]))
		if a.Content["status"] != StatusConnected || (err == nil && now.Sub(seen) < f.lostAfter()) {
			continue
		}
		_, changed, err := f.Store.Update(ctx, state.TypeAgent, a.Name, a.Version, writer, func(cur *state.Object) (*state.Object, error) {
			next := cur.Copy()
			next.Content["status"] = StatusLost
			return next, nil
		})
		switch {
		case errors.Is(err, state.ErrStale), errors.Is(err, state.ErrNotFound):
			continue // heard of meanwhile, or forgotten
		case err != nil:
			return n, fmt.Errorf("mark agent %s lost: %w", a.Name, err)
		case changed:
			n++
			f.Log.Warn("agent lost: not heard of", "agent", a.Name, "zone", a.Content["zone"], "last_seen", a.Content["last_seen"])
		}
	}
	return n, nil
}
