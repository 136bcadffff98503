package server_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/promtest"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/redisconn"
	"github.com/reflexops/reflex/wire"
)

// TestClusterWholePath runs Reflex on a Redis Cluster of three primaries,
// reached by a redis-cluster:// URL: a webhook is processed, its trigger
// fires, an agent runs the delivery and reports it. Redis Cluster refuses
// a script or transaction whose keys lie in several slots (CROSSSLOT), so
// this also proves that every one the path runs keeps to one.
func TestClusterWholePath(t *testing.T) {
	nodes := startCluster(t)
	redisconn.RouteLogs(testLogger())
	conn, err := redisconn.Open(context.Background(), "redis-cluster://"+strings.Join(nodes[:2], ","), "", testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if conn.Mode != redisconn.ModeCluster {
		t.Fatalf("mode %s, want %s", conn.Mode, redisconn.ModeCluster)
	}
	if err := conn.CheckEviction(context.Background()); err != nil {
		t.Fatalf("CheckEviction on a cluster of noeviction primaries: %v", err)
	}

	rig, id := wholePath(t, conn.Client)
	// The metrics read the queues on every node without an error.
	got := scrape(t, rig.instance)
	if n, ok := got["reflex_queue_collect_errors_total"]; !ok || n != 0 {
		t.Errorf("reflex_queue_collect_errors_total = %v (present %v), want 0", n, ok)
	}
	if _, ok := got[promtest.Series("reflex_queue_size", "queue", "events", "state", "pending")]; !ok {
		t.Error("no reflex_queue_size of the events queue")
	}

	// Reflex's key groups and asynq's queues spread over the primaries:
	// the path above did cross nodes.
	cc := conn.Client.(*redis.ClusterClient)
	ctx := context.Background()
	var mu sync.Mutex
	holding := 0
	if err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		n, err := node.DBSize(ctx).Result()
		if n > 0 {
			mu.Lock()
			holding++
			mu.Unlock()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if holding < 2 {
		t.Errorf("%d of 3 primaries hold keys, want at least 2", holding)
	}
	// The eviction check asks every primary, and names the one that may
	// evict.
	evicting := redis.NewClient(&redis.Options{Addr: nodes[2]})
	defer evicting.Close()
	if err := evicting.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.CheckEviction(ctx); !errors.Is(err, redisconn.ErrEviction) || !strings.Contains(err.Error(), "node "+nodes[2]) ||
		strings.Contains(err.Error(), "node "+nodes[0]) {
		t.Errorf("CheckEviction with node %s on allkeys-lru: %v, want ErrEviction naming that node alone", nodes[2], err)
	}
	// The slot the audit below computes is the cluster's.
	for _, k := range []string{keyspace.Events(), keyspace.DeliveryJob(id), keyspace.AgentJobs("production"), keyspace.EventJob("a/b"), "plain"} {
		want, err := cc.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := slot(k); got != int(want) {
			t.Errorf("slot(%q) = %d, want %d (CLUSTER KEYSLOT)", k, got, want)
		}
	}
}

// TestScriptKeysShareASlot watches every script (EVAL, EVALSHA: Reflex's
// and asynq's), every transaction and every multi-key command that the
// whole path sends to Redis, and fails when the keys of one lie in several
// cluster slots, as Redis Cluster would. It runs on any Redis, so a
// script whose keys cross groups shows up without a cluster.
func TestScriptKeysShareASlot(t *testing.T) {
	rdb := newRedis(t)
	audit := &slotAudit{scripts: map[string]bool{}}
	rdb.AddHook(audit)
	wholePath(t, rdb)
	audit.mu.Lock()
	defer audit.mu.Unlock()
	for _, v := range audit.violations {
		t.Error(v)
	}
	// Intake, processing, dispatch, lease, renew, report, release: the
	// audit saw them, or it proves nothing.
	t.Logf("%d distinct scripts ran", len(audit.scripts))
	if len(audit.scripts) < 10 {
		t.Errorf("the path ran %d distinct scripts, want at least 10: the audit did not see them", len(audit.scripts))
	}
}

func TestSlotAuditFindsCrossSlotKeys(t *testing.T) {
	tests := []struct {
		name string
		args []any
		bad  bool
	}{
		{"script, one tag", []any{"evalsha", "abc", "2", keyspace.Events(), keyspace.EventJob("s/1"), "argv"}, false},
		{"script, two groups", []any{"evalsha", "abc", "2", keyspace.Events(), keyspace.DeliveryJob("d"), "argv"}, true},
		{"script, ARGV differs", []any{"eval", "return 1", "1", keyspace.Events(), keyspace.DeliveryJob("d")}, false},
		{"script, no keys", []any{"eval", "return 1", "0"}, false},
		{"mget, one tag", []any{"mget", keyspace.Event("a/1"), keyspace.Event("b/2")}, false},
		{"mget, two tags", []any{"mget", keyspace.Event("a/1"), keyspace.Object("t", "n")}, true},
		{"del of untagged keys", []any{"del", "a", "b"}, true},
		{"single key", []any{"get", "a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &slotAudit{scripts: map[string]bool{}}
			a.check(tt.args)
			if bad := len(a.violations) > 0; bad != tt.bad {
				t.Errorf("violations %v, want some: %v", a.violations, tt.bad)
			}
		})
	}
	a := &slotAudit{scripts: map[string]bool{}}
	a.checkTx([]redis.Cmder{
		redis.NewStatusCmd(context.Background(), "multi"),
		redis.NewStatusCmd(context.Background(), "set", keyspace.Events(), "1"),
		redis.NewStatusCmd(context.Background(), "set", keyspace.Changes(), "1"),
		redis.NewSliceCmd(context.Background(), "exec"),
	})
	if len(a.violations) != 1 {
		t.Errorf("a transaction over two groups: violations %v, want 1", a.violations)
	}
}

// wholePath runs Reflex with deliveries on rdb: a signed push is accepted,
// processed, fires its trigger, and an agent runs the delivery, which
// succeeds. It returns the rig and the delivery's id.
func wholePath(t *testing.T, rdb redis.UniversalClient) (*deliveryRig, string) {
	t.Helper()
	rig := startDelivery(t, rdb, deliveryDecl, logOnFailure(t))
	rig.runAgent(t, "agent-1", "")
	f := withDelivery(fixture(t, "push.branch"))
	accepted := deliver(t, rig.instance, f)
	if accepted.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", accepted.Code, accepted.Body)
	}
	waitProcessed(t, rig.instance, accepted.ID)
	id := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	rec := rig.record(t, id, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" || rec["agent"] != "agent-1" {
		t.Fatalf("deployment record %v, want succeeded by agent-1", rec)
	}
	if got := rig.deployed(t); !slices.Equal(got, []string{pushedCommit}) {
		t.Fatalf("the action deployed %v, want [%s]", got, pushedCommit)
	}
	// A redelivery of the same webhook is recognised, and the history
	// lists the event once.
	if r := deliver(t, rig.instance, f); r.Status != "duplicate" {
		t.Fatalf("redelivery: %d %s, want a duplicate", r.Code, r.Body)
	}
	var page []struct{ ID string }
	if r := apiGet(t, rig.instance, "/api/v1/events?limit=10", &page); r.Code != http.StatusOK || len(page) != 1 || page[0].ID != accepted.ID {
		t.Fatalf("event list: %d %s, want 200 and the one event", r.Code, r.Body)
	}
	return rig, id
}

// startCluster starts three redis-server primaries in cluster mode on free
// ports, joins them with redis-cli --cluster create, waits until the
// cluster is ok and returns the nodes' host:port.
func startCluster(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli is not installed; the cluster test needs it to join the nodes")
	}
	var nodes []string
	for range 3 {
		srv := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec", Args: []string{
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
			"--maxmemory-policy", "noeviction",
		}})
		u, err := url.Parse(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, u.Host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, nodes...)
	out, err := exec.CommandContext(ctx, "redis-cli", append(args, "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if ctx.Err() != nil {
				c.Close()
				t.Fatalf("node %s: the cluster is not ok within 30s: %v\n%s", n, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	return nodes
}

// slotAudit is a client hook that records every command whose keys would
// lie in several slots of a Redis Cluster, and the scripts it saw.
type slotAudit struct {
	mu         sync.Mutex
	scripts    map[string]bool
	violations []string
}

func (a *slotAudit) DialHook(next redis.DialHook) redis.DialHook { return next }

func (a *slotAudit) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		a.check(cmd.Args())
		return next(ctx, cmd)
	}
}

func (a *slotAudit) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && cmds[0].Name() == "multi" {
			a.checkTx(cmds)
		}
		for _, c := range cmds {
			a.check(c.Args())
		}
		return next(ctx, cmds)
	}
}

// multiKey are the commands with several keys that the audit knows,
// and which of their arguments (after the name) are keys.
var multiKey = map[string]func(i int) bool{
	"mget": func(int) bool { return true }, "del": func(int) bool { return true }, "unlink": func(int) bool { return true },
	"exists": func(int) bool { return true }, "touch": func(int) bool { return true },
	"sunion": func(int) bool { return true }, "sinter": func(int) bool { return true }, "sdiff": func(int) bool { return true },
	"rename": func(i int) bool { return i < 2 }, "renamenx": func(i int) bool { return i < 2 },
	"smove": func(i int) bool { return i < 2 }, "lmove": func(i int) bool { return i < 2 }, "rpoplpush": func(i int) bool { return i < 2 },
}

// check records a command whose keys span slots.
func (a *slotAudit) check(args []any) {
	if len(args) == 0 {
		return
	}
	name := strings.ToLower(fmt.Sprint(args[0]))
	var keys []string
	switch name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		if len(args) < 3 {
			return
		}
		n, err := strconv.Atoi(fmt.Sprint(args[2]))
		if err != nil || 3+n > len(args) {
			a.record("%s with a bad key count: %v", name, args[2])
			return
		}
		for _, k := range args[3 : 3+n] {
			keys = append(keys, fmt.Sprint(k))
		}
		a.mu.Lock()
		a.scripts[fmt.Sprint(args[1])] = true
		a.mu.Unlock()
		if name == "eval" {
			// The same script by its SHA, so that EVAL after NOSCRIPT
			// does not count twice.
			a.mu.Lock()
			a.scripts[scriptSHA(fmt.Sprint(args[1]))] = true
			delete(a.scripts, fmt.Sprint(args[1]))
			a.mu.Unlock()
		}
	default:
		isKey, ok := multiKey[name]
		if !ok {
			return
		}
		for i, k := range args[1:] {
			if isKey(i) {
				keys = append(keys, fmt.Sprint(k))
			}
		}
	}
	if !oneSlot(keys) {
		a.record("%s over keys of several slots: %v", name, keys)
	}
}

// checkTx records a transaction whose keys span slots, taking the first
// argument of each command as its key.
func (a *slotAudit) checkTx(cmds []redis.Cmder) {
	var keys []string
	for _, c := range cmds {
		switch args := c.Args(); {
		case c.Name() == "multi", c.Name() == "exec", len(args) < 2:
		default:
			keys = append(keys, fmt.Sprint(args[1]))
		}
	}
	if !oneSlot(keys) {
		a.record("a transaction over keys of several slots: %v", keys)
	}
}

func (a *slotAudit) record(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.violations = append(a.violations, fmt.Sprintf(format, args...))
}

// oneSlot reports whether the keys all hash to one cluster slot.
func oneSlot(keys []string) bool {
	for _, k := range keys[min(1, len(keys)):] {
		if slot(k) != slot(keys[0]) {
			return false
		}
	}
	return true
}

// slot is the Redis Cluster slot of a key: the CRC16 (XMODEM) of its hash
// tag, the part between its first "{" and the next "}" when not empty, or
// else of the whole key, modulo 16384.
func slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for _, b := range []byte(key) {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// scriptSHA is the SHA-1 of a script's source, by which EVALSHA names it.
func scriptSHA(src string) string {
	sum := sha1.Sum([]byte(src))
	return hex.EncodeToString(sum[:])
}
