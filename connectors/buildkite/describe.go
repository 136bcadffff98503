package buildkite

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Buildkite's
// deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Buildkite Pipelines (webhook notification services)",
		Scheme:       "HMAC-SHA256 of timestamp.body (X-Buildkite-Signature), or token in constant time",
		Verification: "X-Buildkite-Signature \"timestamp=…,signature=…\": hex HMAC-SHA256 of \"<timestamp>.<body>\" with the webhook's token, the timestamp within settings.tolerance (default 5m); or X-Buildkite-Token equal to the webhook's token, unless settings.require_signature; a delivery with both or neither is refused",
		DeliveryID:   "a hash of the body: Buildkite sends no delivery id, so a redelivery is a duplicate when byte for byte the same",
		Setup:        "a token, sent as X-Buildkite-Signature (recommended) or X-Buildkite-Token; the build and job events to send",
		Events: []connectors.EventDoc{
			{Type: "build.scheduled", Kinds: []string{"build.queued"}},
			{Type: "build.running", Kinds: []string{"build.started"}},
			{Type: "build.failing", Kinds: []string{"other"}, Note: "a job failed, the build runs on"},
			{Type: "build.finished", Kinds: []string{"build.finished", "other"}, Note: "passed (success), failed (failure), canceled (cancelled), skipped and not_run (skipped); blocked on a block step, or an unknown state, is other"},
			{Type: "build.skipped", Kinds: []string{"build.finished", "other"}, Note: "skipped; blocked is other"},
			{Type: "job.scheduled", Kinds: []string{"task.queued"}},
			{Type: "job.started", Kinds: []string{"task.started"}},
			{Type: "job.finished", Kinds: []string{"task.finished", "other"}, Note: "passed (success), failed (failure; neutral when soft-failed), timed_out and expired (timed_out), canceled (cancelled), skipped, broken, waiting_failed, blocked_failed and unblocked_failed (skipped: it never ran); an unknown state is other"},
			{Type: "job.activated", Kinds: []string{"other"}, Note: "a block step was unblocked"},
		},
		Docs: []string{
			"https://buildkite.com/docs/apis/webhooks/pipelines",
			"https://buildkite.com/docs/apis/webhooks/pipelines/build-events",
			"https://buildkite.com/docs/apis/webhooks/pipelines/job-events",
			"https://buildkite.com/docs/apis/webhooks/pipelines/ping-events",
			"https://buildkite.com/docs/apis/rest-api/builds",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
