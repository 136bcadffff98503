package hmac

import (
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Describe says how the connector verifies and normalizes deliveries.
func (*Connector) Describe() connectors.Description {
	var kinds []string
	for _, k := range event.Kinds() {
		kinds = append(kinds, string(k))
	}
	return connectors.Description{
		Provider:     "Any sender that signs the body with an HMAC in a header (internal tools, CI and deployment scripts, services with a \"secret\" setting)",
		Scheme:       "HMAC of the body in a configured header",
		Verification: "settings.header: an HMAC (sha256, sha512; sha1 only with allow_sha1) of the body, or of settings.signed_template with a timestamp header within settings.tolerance, hex or base64, after settings.prefix; without settings, X-Hub-Signature-256: sha256=<hex HMAC-SHA256>",
		DeliveryID:   "settings.delivery_id_header; without one, the SHA-256 of the body (id_from content-hash)",
		Setup:        "a secret at the sender and the same as the source's secret; settings describing the scheme, and settings.kinds (with settings.normalize for the payload's shape) to normalize its event types",
		Events:       []connectors.EventDoc{{Type: "*", Kinds: kinds, Note: "the kind settings.kinds gives the type (settings.event_type_header or settings.event_type); unnormalized without one"}},
		Docs: []string{
			"https://www.rfc-editor.org/rfc/rfc2104",
			"https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
