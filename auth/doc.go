// Package auth holds Reflex's API keys: their "name.secret" format, how a
// secret is generated and stored (as a hash only), and how a request's
// bearer token becomes a Caller.
package auth
