package cloudevents

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes CloudEvents and
// CDEvents.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "CloudEvents 1.0 over HTTP (binary, structured and batched mode; the webhook profile), and CDEvents carried as CloudEvents",
		Scheme:       "HMAC, bearer token or Standard Webhooks (settings.auth)",
		Verification: "settings.auth: hmac (default: hex HMAC-SHA256 of the body in X-Signature, prefixed sha256=), bearer (Authorization: Bearer or the access_token query parameter) or standard-webhooks; the OPTIONS validation handshake is answered without calling any callback URL",
		DeliveryID:   "ce- and 40 hex digits of the SHA-256 of the event's source and id, which CloudEvents makes unique (id_from: attributes)",
		Setup:        "the sink URL, the token or signing secret; a batch may hold up to 100 events",
		Events: []connectors.EventDoc{
			{Type: "dev.cdevents.change.<predicate>.<version>", Kinds: []string{"change.created", "change.updated", "change.merged", "change.abandoned", "other"}},
			{Type: "dev.cdevents.branch.<predicate>.<version>", Kinds: []string{"branch.created", "branch.deleted", "other"}},
			{Type: "dev.cdevents.pipelinerun.<predicate>.<version>", Kinds: []string{"build.queued", "build.started", "build.finished"}, Note: "outcome success, failure, error (a failure), cancel (cancelled)"},
			{Type: "dev.cdevents.taskrun.<predicate>.<version>", Kinds: []string{"task.queued", "task.started", "task.finished"}},
			{Type: "dev.cdevents.build.<predicate>.<version>", Kinds: []string{"build.queued", "build.started", "build.finished"}},
			{Type: "dev.cdevents.artifact.<predicate>.<version>", Kinds: []string{"artifact.published", "other"}, Note: "published; the purl subject id gives the image repository, digest and tag"},
			{Type: "dev.cdevents.service.<predicate>.<version>", Kinds: []string{"deployment.finished", "other"}, Note: "deployed, upgraded, rolledback: a successful deployment"},
			{Type: "dev.cdevents.environment.<predicate>.<version>", Kinds: []string{"other"}},
			{Type: "dev.cdevents.repository.<predicate>.<version>", Kinds: []string{"other"}},
		},
		Docs: []string{
			"https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md",
			"https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/http-webhook.md",
			"https://github.com/cdevents/spec/blob/v0.5.1/cloudevents-binding.md",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
