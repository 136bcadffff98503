package artifactory

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Artifactory's
// webhook deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "JFrog Artifactory (predefined webhooks: docker and artifact domains)",
		Scheme:       "HMAC-SHA256 hex in X-JFrog-Event-Auth, or a token header",
		Verification: "X-JFrog-Event-Auth: the HMAC-SHA256 of the body in hex, keyed with the handler's secret (payload signing on); or, with settings.auth token, a header (X-JFrog-Event-Auth by default) holding the secret itself, compared whole",
		DeliveryID:   "SHA-256 of the body (Artifactory sends no delivery id)",
		Setup:        "a webhook (predefined) with the source's secret and \"Use secret for payload signing\" on; settings.registry_host when Docker pulls from another host than the platform URL",
		Events: []connectors.EventDoc{
			{Type: "docker", Kinds: []string{"artifact.published", "other", "unnormalized"}, Note: "pushed (image `<registry host>/<repo_key>/<image_name>`, digest `sha256:<data.sha256>`); deleted and promoted are other; any other event type is unnormalized"},
			{Type: "artifact", Kinds: []string{"other", "unnormalized"}, Note: "deployed and deleted are other, with the file (type guessed from its name); any other event type is unnormalized"},
		},
		Docs: []string{
			"https://jfrog.com/help/r/jfrog-platform-administration-documentation/webhooks",
			"https://jfrog.com/help/r/jfrog-platform-administration-documentation/domain-docker",
			"https://jfrog.com/help/r/jfrog-platform-administration-documentation/domain-artifact",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
