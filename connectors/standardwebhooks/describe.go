package standardwebhooks

import (
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Describe says how the connector verifies and normalizes Standard
// Webhooks deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Any Standard Webhooks sender (Svix and the services built on it, and other senders of the specification)",
		Scheme:       "Standard Webhooks v1 (HMAC) or v1a (Ed25519), timestamped",
		Verification: "webhook-signature: any v1 HMAC-SHA256 by a whsec_ secret or v1a Ed25519 signature by a public key in settings.public_keys, of webhook-id.webhook-timestamp.body; the timestamp within settings.tolerance (5m); svix- headers read too",
		DeliveryID:   "webhook-id, the message id a retry keeps",
		Setup:        "the endpoint's whsec_ signing secret as the source's secret, or its whpk_ public key in settings.public_keys; settings.kinds (and settings.normalize for the payload's shape) to normalize its event types",
		Events:       []connectors.EventDoc{{Type: "*", Kinds: kindNames(), Note: "the kind settings.kinds gives the payload's type (settings.event_type); unnormalized without one"}},
		Docs: []string{
			"https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md",
			"https://www.standardwebhooks.com",
		},
	}
}

// kindNames lists every kind, as settings.kinds may give any.
func kindNames() []string {
	var names []string
	for _, k := range event.Kinds() {
		names = append(names, string(k))
	}
	return names
}

var _ connectors.Describer = (*Connector)(nil)
