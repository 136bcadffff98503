package server

import (
	"context"
	"slices"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/fleet"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/metrics"
	"github.com/reflexops/reflex/state"
)

// registerCollectors adds what is read when the metrics are scraped: the
// job queues (asynq's, and each zone's agents' queue) and the agents.
func registerCollectors(o Options, store *state.Store, zoneJobs *leases.Queue) {
	o.Metrics.MustRegister(
		&metrics.Queues{
			Inspector: asynq.NewInspectorFromRedisClient(o.Redis), Redis: o.Redis, Leases: zoneJobs,
			Zones: func(ctx context.Context) ([]string, error) { return zones(ctx, store) }, Log: o.Log,
		},
		&fleet.Collector{Store: store},
	)
}

// zones lists the zones that have services or agents, whose queues of
// agents' jobs the metrics report.
func zones(ctx context.Context, store *state.Store) ([]string, error) {
	var out []string
	for _, typ := range []string{state.TypeService, state.TypeAgent} {
		objs, err := store.Objects(ctx, typ, "")
		if err != nil {
			return out, err
		}
		for _, o := range objs {
			if z, _ := o.Content["zone"].(string); z != "" && !slices.Contains(out, z) {
				out = append(out, z)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
