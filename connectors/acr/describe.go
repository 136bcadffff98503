package acr

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Azure Container
// Registry's webhooks.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Azure Container Registry (registry webhooks)",
		Scheme:       "custom header, constant time",
		Verification: "nothing is signed: a custom header of the webhook (Authorization, or settings.header) whose whole value is compared with the source's secret in constant time; settings.confirm asks the registry whether a pushed image exists with its digest before the event counts",
		DeliveryID:   "the payload's id (the webhook event's id)",
		Setup:        "az acr webhook create --uri https://<reflex>/hooks/<source> --actions push delete --headers \"Authorization=<secret>\" (or settings.header's name)",
		Events: []connectors.EventDoc{
			{Type: ActionPush, Kinds: []string{"artifact.published"}, Note: "<login server>/<repository>, with the tag and digest, or the digest alone for a push by digest"},
			{Type: ActionDelete, Kinds: []string{"other"}, Note: "action deleted: a manifest (its digest) or a repository; untagging sends nothing"},
			{Type: ActionChartPush, Kinds: []string{"artifact.published"}, Note: "a Helm chart (artifact type helm) in the registry's legacy chart repositories, named <settings.login_server>/<repository>/<chart>, with its version"},
			{Type: ActionChartDelete, Kinds: []string{"other"}, Note: "action deleted, a Helm chart"},
			{Type: ActionQuarantine, Kinds: []string{"other"}, Note: "action quarantined"},
		},
		Docs: []string{
			"https://learn.microsoft.com/azure/container-registry/container-registry-webhook",
			"https://learn.microsoft.com/azure/container-registry/container-registry-webhook-reference",
			"https://learn.microsoft.com/cli/azure/acr/webhook",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
