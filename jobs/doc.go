// Package jobs holds Reflex's durable background work on asynq: one file
// per task type (its type name, payload, constructor and handler), the
// intake that queues events exactly once, and the worker server.
package jobs
