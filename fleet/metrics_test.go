package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/fleet"
	"github.com/reflexops/reflex/internal/promtest"
	"github.com/reflexops/reflex/wire"
)

// TestCollector: each agent's last contact is reported by zone and name,
// and the agents are counted by zone and status, as the objects say when
// scraped.
func TestCollector(t *testing.T) {
	f, c := newFleet(t)
	ctx := context.Background()
	for _, a := range []struct{ name, zone string }{{"agent-1", "production"}, {"agent-2", "production"}, {"lab-1", "lab"}} {
		caller := &auth.Caller{Kind: auth.KindAgent, Name: a.name, Zone: a.zone}
		if err := f.Connect(ctx, caller, wire.Hello{Zone: a.zone}); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Second)
	}
	if err := f.Disconnect(ctx, &auth.Caller{Kind: auth.KindAgent, Name: "agent-2", Zone: "production"}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(&fleet.Collector{Store: f.Store})
	got, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	start := float64(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix())
	want := promtest.Samples{
		promtest.Series("reflex_agent_last_seen_timestamp_seconds", "zone", "production", "agent", "agent-1"): start,
		promtest.Series("reflex_agent_last_seen_timestamp_seconds", "zone", "production", "agent", "agent-2"): start + 3,
		promtest.Series("reflex_agent_last_seen_timestamp_seconds", "zone", "lab", "agent", "lab-1"):          start + 2,
		promtest.Series("reflex_agents", "zone", "production", "status", "connected"):                         1,
		promtest.Series("reflex_agents", "zone", "production", "status", "disconnected"):                      1,
		promtest.Series("reflex_agents", "zone", "lab", "status", "connected"):                                1,
		"reflex_agent_collect_errors_total":                                                                   0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
}
