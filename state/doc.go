// Package state stores what Reflex knows in Redis: the history of received
// events and the live-state records the worker keeps up to date. Every Redis
// key Reflex writes is built by package keyspace; every multi-key write is
// one Lua script, on keys of one hash tag, so readers never see half an
// update.
package state
