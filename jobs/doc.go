// Package jobs holds Reflex's durable background work on asynq: the task
// types, each with its name, payload, constructor and handler (which calls
// into the package that owns the work: projection for live state,
// delivery for deliveries), and the worker server that runs them.
package jobs
