package event

import "time"

// CloudEventsSpecVersion is the CloudEvents version CloudEvent produces.
const CloudEventsSpecVersion = "1.0"

// CloudEvent is an event in the CloudEvents 1.0 structured JSON format.
type CloudEvent struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject,omitempty"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	// CDEventsType is an extension attribute naming the CDEvents type that
	// matches the event, when one does.
	CDEventsType string `json:"cdeventstype,omitempty"`
	// ProviderType is an extension attribute with the provider's own type.
	ProviderType string `json:"providertype"`
	Data         *Event `json:"data"`
}

// CloudEvent returns the event as a CloudEvent. The pair (source, id) is
// unique, as CloudEvents requires: source is the Reflex source's path and id
// the provider's delivery id.
func (e *Event) CloudEvent() CloudEvent {
	ce := CloudEvent{
		SpecVersion:     CloudEventsSpecVersion,
		ID:              e.ID,
		Source:          "/sources/" + e.Source,
		Type:            "dev.reflex." + string(e.Kind),
		Time:            e.ReceivedAt,
		DataContentType: "application/json",
		CDEventsType:    e.CDEventsType(),
		ProviderType:    e.Connector + "." + e.Type,
		Data:            e,
	}
	if e.Repository != nil {
		ce.Subject = e.Repository.Name
	}
	return ce
}
