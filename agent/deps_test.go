package agent_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerDependencies: the agent runs inside the secured network and
// must not compile in the server, its packages or their libraries, nor any
// way to reach Redis.
func TestNoServerDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go") // go test puts its own GOROOT/bin first
	if err != nil {
		t.Skipf("the go tool is not available: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list -deps: %v\n%s", err, exit.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	const module = "github.com/reflexops/reflex/"
	// A path stands for itself and every package below it.
	forbidden := []struct{ path, why string }{
		{module + "auth", "the server's API keys"},
		{module + "config", "the server's configuration file"},
		{module + "connectors", "the server's webhook connectors"},
		{module + "delivery", "the server's dispatcher"},
		{module + "event", "the server's event model"},
		{module + "handlers", "the server's HTTP API"},
		{module + "jobs", "the server's worker"},
		{module + "plan", "the server's declared installation"},
		{module + "policies", "the server's authorization"},
		{module + "server", "the server"},
		{module + "sources", "the server's webhook sources"},
		{module + "state", "the server's store"},
		{module + "triggers", "the server's triggers"},
		{"cel.dev", "CEL, for policies and triggers"},
		{"github.com/santhosh-tekuri/jsonschema", "the JSON Schema validator of the store"},
		{"github.com/google/go-github", "the GitHub client of deliveries"},
		{"github.com/gin-gonic/gin", "the server's HTTP framework"},
		{module + "leases", "the server's lease queue, on Redis"},
		{module + "fleet", "the server's record of agents"},
		{module + "redisconn", "Redis: an agent reaches Reflex over HTTPS only"},
		{module + "internal/keyspace", "Redis keys: an agent reaches Reflex over HTTPS only"},
		{"github.com/redis/go-redis", "a Redis client: an agent reaches Reflex over HTTPS only"},
		{"github.com/hibiken/asynq", "the server's queues, on Redis"},
		{"github.com/alicebob/miniredis", "the embedded Redis"},
	}
	for _, f := range forbidden {
		for _, dep := range deps {
			if dep == f.path || strings.HasPrefix(dep, f.path+"/") {
				t.Errorf("the agent depends on %s (%s)", dep, f.why)
			}
		}
	}
}
