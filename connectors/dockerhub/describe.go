package dockerhub

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Docker Hub's
// webhooks.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Docker Hub (repository webhooks)",
		Scheme:       "token in the URL path, constant time",
		Verification: "nothing is signed: the webhook URL ends in the source's secret, /hooks/{source}/{token}, compared in constant time (never from the query string or a header, never logged); an IP allow-list policy is recommended, and settings.confirm asks the registry whether the pushed tag exists before the event counts",
		DeliveryID:   "none is sent: the SHA-256 of the body (push_data.pushed_at makes each push's body differ; a resend is a duplicate only when byte for byte the same)",
		Setup:        "repository → Webhooks: a name and the URL https://<reflex>/hooks/<source>/<secret>",
		Events: []connectors.EventDoc{
			{Type: EventPush, Kinds: []string{"artifact.published"}, Note: "docker.io/<namespace>/<name>:<tag>, an official image's namespace being library; no digest (digest_missing)"},
		},
		Docs: []string{
			"https://docs.docker.com/docker-hub/repos/manage/webhooks/",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
