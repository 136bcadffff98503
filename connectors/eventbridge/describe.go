package eventbridge

import (
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/awsevents"
)

// Describe says how the connector verifies and normalizes an EventBridge
// API destination's deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Amazon EventBridge API destinations (rules matching AWS CodeBuild and Amazon ECR events, or any event)",
		Scheme:       "API key header or Basic credentials, constant time",
		Verification: "nothing is signed: the connection's API key header (settings.api_key_header, default X-Api-Key) equal to the source's secret, or with settings.auth basic its Basic credentials, settings.username and the source's secret as the password",
		DeliveryID:   "the event's id, which EventBridge keeps when it retries",
		Setup:        "a connection with API key (or Basic) authorization holding the source's secret, an API destination to the HTTPS URL with method POST, a rule matching the events with the API destination as its target and no input transformer",
		Events:       awsevents.EventDocs(),
		Docs: append([]string{
			"https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-api-destinations.html",
			"https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-target-connection-auth.html",
		}, awsevents.Docs()...),
	}
}

var _ connectors.Describer = (*Connector)(nil)
