package fleet

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/state"
)

// DefaultCollectTimeout bounds the read of the agents for one scrape.
const DefaultCollectTimeout = 3 * time.Second

var (
	lastSeenDesc = prometheus.NewDesc("reflex_agent_last_seen_timestamp_seconds",
		"When an agent was last heard of (Unix time), by zone and agent; heartbeats refresh it at least every minute.",
		[]string{"zone", "agent"}, nil)
	agentsDesc = prometheus.NewDesc("reflex_agents",
		"Agents known, by zone and status (connected, disconnected, lost).",
		[]string{"zone", "status"}, nil)
	collectErrorsDesc = prometheus.NewDesc("reflex_agent_collect_errors_total",
		"Reads of the agents that failed or timed out during a scrape; that scrape had no agent samples.",
		nil, nil)
)

// Collector reports the fleet's agents when scraped, from their agent
// objects: when each was last heard of, and how many are in each status.
// The labels are agents' names and zones, which API keys set, never
// what a sender posts.
type Collector struct {
	// Store holds the agent objects. Required.
	Store *state.Store
	// Timeout bounds one scrape's read. Default DefaultCollectTimeout.
	Timeout time.Duration

	errors atomic.Int64
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lastSeenDesc
	ch <- agentsDesc
	ch <- collectErrorsDesc
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultCollectTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	agents, err := c.Store.Objects(ctx, state.TypeAgent, "")
	if err != nil {
		c.errors.Add(1)
	}
	type zoneStatus struct{ zone, status string }
	counts := map[zoneStatus]int{}
	for _, a := range agents {
		zone, _ := a.Content["zone"].(string)
		status, _ := a.Content["status"].(string)
		counts[zoneStatus{zone, status}]++
		last, _ := a.Content["last_seen"].(string)
		seen, err := time.Parse(time.RFC3339Nano, last)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(lastSeenDesc, prometheus.GaugeValue, float64(seen.UnixMilli())/1000, zone, a.Name)
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(n), k.zone, k.status)
	}
	ch <- prometheus.MustNewConstMetric(collectErrorsDesc, prometheus.CounterValue, float64(c.errors.Load()))
}
