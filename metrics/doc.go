// Package metrics holds what Reflex's Prometheus metrics need beyond the
// counters each package keeps of its own work: the registry a process
// serves, the listener of --metrics-listen, a collector of the job queues'
// figures read at scrape time, and the count of policy decisions.
//
// The counters live beside what they count (handlers for the intake, jobs
// for the worker, delivery for the ends of deliveries, fleet for agents,
// agent for the agent's own work); docs/metrics.md lists them all.
package metrics
