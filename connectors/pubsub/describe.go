package pubsub

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Pub/Sub push
// deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Google Cloud Pub/Sub push subscriptions (Cloud Build status messages, Artifact Registry and Container Registry notifications)",
		Scheme:       "Google OIDC token (RS256 JWT) checked with Google's published keys",
		Verification: "Authorization: Bearer OIDC token: RS256 only, signed by a key of the JWKS at settings.keys_url (default Google's, fetched over https with a timeout and cached per its Cache-Control; an unknown key id fetches it again at most once a minute); iss https://accounts.google.com or accounts.google.com; aud settings.audience; email one of settings.service_accounts with email_verified true; exp and iat valid at the receive time within 1m. Keys that cannot be fetched answer 503. Optionally, the envelope's subscription one of settings.subscriptions",
		DeliveryID:   "the message's messageId (message_id in older envelopes), which Pub/Sub keeps when it delivers a message again",
		Setup:        "a push subscription (payload unwrapping off) with authentication enabled: its service account and audience go into settings.service_accounts and settings.audience",
		Events: []connectors.EventDoc{
			{Type: TypeCloudBuild, Kinds: []string{"build.queued", "build.started", "build.finished", "other"}, Note: "attributes buildId and status; PENDING/QUEUED, WORKING, SUCCESS/FAILURE/INTERNAL_ERROR/TIMEOUT/CANCELLED/EXPIRED (outcome success, failure, timed_out, cancelled); STATUS_UNKNOWN is other. The payload is the Build resource"},
			{Type: TypeGCR, Kinds: []string{"artifact.published", "other"}, Note: "data action INSERT publishes the image (by tag and digest, or digest only); DELETE is other, action deleted. The payload is the notification"},
			{Type: TypePubSub, Kinds: []string{"unnormalized"}, Note: "any other message; the payload is the envelope, attributes included"},
		},
		Docs: []string{
			"https://cloud.google.com/pubsub/docs/push",
			"https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions",
			"https://cloud.google.com/build/docs/subscribe-build-notifications",
			"https://cloud.google.com/build/docs/api/reference/rest/v1/projects.builds",
			"https://cloud.google.com/artifact-registry/docs/configure-notifications",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
