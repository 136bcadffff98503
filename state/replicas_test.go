package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestReplicaAcks: with ReplicaAcks, an event is accepted only once a
// replica holds it; a primary without a replica refuses, wrapping
// ErrReplicas, within the timeout.
func TestReplicaAcks(t *testing.T) {
	primary := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec"})
	u, err := url.Parse(primary.URL)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(u.Host, ":")
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: u.Host})
	defer rdb.Close()
	s := state.New(rdb, state.Options{ReplicaAcks: 1, ReplicaAckTimeout: 300 * time.Millisecond})
	accept := func(id string) error {
		ev := newEvent("acme", id, t0)
		raw, _ := json.Marshal(ev)
		_, err := s.AcceptEvent(ctx, ev, raw, []byte(`{}`), testJob(ev))
		return err
	}

	began := time.Now()
	if err := accept("alone"); !errors.Is(err, state.ErrReplicas) || !strings.Contains(err.Error(), "0 of 1") {
		t.Fatalf("accept without a replica: %v, want ErrReplicas, 0 of 1", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the refusal took %s, want about the 300ms timeout", took)
	}

	replica := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec", Args: []string{"--replicaof", host, port}})
	ru, _ := url.Parse(replica.URL)
	rc := redis.NewClient(&redis.Options{Addr: ru.Host})
	defer rc.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, _ := rc.Info(ctx, "replication").Result()
		if strings.Contains(info, "master_link_status:up") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not connect within 20s:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := accept("replicated"); err != nil {
		t.Fatalf("accept with a replica: %v", err)
	}
	// Acknowledged means on the replica already, without waiting.
	if n, err := rc.Exists(ctx, keyspace.Event(keyspace.EventMember("acme", "replicated"))).Result(); err != nil || n != 1 {
		t.Fatalf("the accepted event on the replica: %d, %v; want it there", n, err)
	}
}
