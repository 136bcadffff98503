package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/wire"
)

// TestAgentACL runs an agent as the Redis ACL user of
// examples/secured-delivery/agent.acl, on a private redis-server: the
// minimal rights the README gives are enough for a whole delivery, and
// they do not reach Reflex's own keys.
func TestAgentACL(t *testing.T) {
	raw, err := os.ReadFile("../../examples/secured-delivery/agent.acl")
	if err != nil {
		t.Fatal(err)
	}
	srv := redistest.StartServer(t)
	admin := redis.NewClient(mustParse(t, srv.URL))
	defer admin.Close()
	rule := strings.Fields(strings.Replace(strings.TrimSpace(string(raw)), ">CHANGE-ME", ">agent-pw", 1))
	args := []any{"ACL", "SETUSER"}
	for _, f := range rule[1:] { // drop the leading "user"
		args = append(args, f)
	}
	if err := admin.Do(context.Background(), args...).Err(); err != nil {
		t.Fatalf("ACL SETUSER from agent.acl: %v", err)
	}

	s := startSecuredDeliveryOn(t, srv.URL, `"echo deploying $COMMIT; echo $COMMIT > deployed.txt"`)
	s.redisURL = strings.Replace(srv.URL, "redis://", "redis://reflex-agent:agent-pw@", 1)
	s.agent(t, "agent-acl")
	s.send(t, "acl-1")
	rec := s.record(t, wire.ID("push-web", "acme-github", "acl-1"), 30*time.Second, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" {
		t.Fatalf("record = %v", rec)
	}
	agentClient := redis.NewClient(mustParse(t, s.redisURL))
	defer agentClient.Close()
	if err := agentClient.Get(context.Background(), keyspace.Object("service", "web-prod")).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("the agent's user reads Reflex's live state: %v", err)
	}
}

func mustParse(t *testing.T, url string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
