package connectors

// Describer is implemented by every connector: what `reflex connectors`
// shows an operator about it, and what docs/events.md is checked against.
type Describer interface {
	// Describe returns the connector's description.
	Describe() Description
}

// Description says how a connector verifies, identifies and normalizes
// its provider's deliveries.
type Description struct {
	// Provider names the provider, e.g. "GitLab (GitLab.com and
	// self-managed)".
	Provider string `json:"provider"`
	// Scheme names the verification in a few words, for lists.
	Scheme string `json:"scheme"`
	// Verification says how a delivery is proven genuine.
	Verification string `json:"verification"`
	// DeliveryID says what de-duplicates a delivery.
	DeliveryID string `json:"delivery_id"`
	// Setup says what to configure at the provider, beside the URL.
	Setup string `json:"setup,omitempty"`
	// Events lists the event types the connector normalizes.
	Events []EventDoc `json:"events"`
	// Docs links the provider documentation the connector implements.
	Docs []string `json:"docs"`
}

// EventDoc is one provider event type and the kinds it normalizes to.
type EventDoc struct {
	// Type is the provider's event type as Event.Type holds it.
	Type string `json:"type"`
	// Kinds lists the kinds it can take, by action or state.
	Kinds []string `json:"kinds"`
	// Note says which action or state gives which kind, when not plain.
	Note string `json:"note,omitempty"`
}
