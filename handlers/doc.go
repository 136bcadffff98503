// Package handlers holds Reflex's HTTP surface on gin: the webhook intake,
// health probes and the /api/v1 routes, with one error middleware that
// turns every failure into {"status":"failed","message":…}.
package handlers
