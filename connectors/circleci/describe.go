package circleci

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes CircleCI's
// deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "CircleCI (outbound webhooks of CircleCI cloud and server 4+)",
		Scheme:       "HMAC-SHA256 of the body (circleci-signature v1)",
		Verification: "circleci-signature: a comma-separated list of versioned signatures, one v1 entry of which must be the hex HMAC-SHA256 of the body with the webhook's secret token; other versions are never trusted",
		DeliveryID:   "the payload's id, which identifies the event: CircleCI's duplicate deliveries of one event share it",
		Setup:        "a secret token, the events workflow-completed and job-completed",
		Events: []connectors.EventDoc{
			{Type: TypeWorkflowCompleted, Kinds: []string{"build.finished", "other"}, Note: "success; failed, error, unauthorized (failure); canceled; an unknown status is other"},
			{Type: TypeJobCompleted, Kinds: []string{"task.finished", "other"}, Note: "by status as a workflow's; timedout (timed_out) and not_run (skipped) are read too"},
		},
		Docs: []string{
			"https://circleci.com/docs/guides/integration/outbound-webhooks/",
			"https://circleci.com/docs/reference/outbound-webhooks-reference/",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
