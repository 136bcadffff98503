// Package eventbridge is the connector for Amazon EventBridge API
// destinations: a rule whose target is an API destination posts each
// event it matches to Reflex, e.g. AWS CodeBuild's build state changes
// and Amazon ECR's image actions and scans.
//
// It implements the delivery contract documented at
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-api-destinations.html
// (the request EventBridge makes: POST, the event as the JSON body, a
// Content-Type of application/json; charset=utf-8, a User-Agent of
// Amazon/EventBridge/ApiDestinations; 429 and 5xx answers retried for up
// to 24 hours) and
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-target-connection-auth.html
// (a connection's authorization).
//
// EventBridge signs nothing. The API destination's connection adds a
// credential to every request, and that is what Verify checks, in
// constant time, against each of the source's secrets:
//
//   - auth "api_key" (the default): the connection's API key, in the header
//     its "API key name" names: settings.api_key_header, default X-Api-Key
//     (the name AWS's own examples use). The header may not be one
//     policies are shown nor one HTTP gives a meaning of its own, as
//     connectors.CheckCredentialHeader says.
//   - auth "basic": the connection's Basic authorization, settings.username
//     as the user name and the source's secret as the password. The user
//     name and the password are both compared before either decides, so a
//     right password with a wrong user is refused like any other.
//
// Exactly one scheme is in force. A connection with OAuth client
// credentials is not supported: EventBridge sends a bearer token it got
// from the configured authorization server, which Reflex has no way to
// check.
//
// The body is the EventBridge event itself, as a rule without an input
// transformer sends it (an input transformer's output is accepted only
// when it keeps the event's id and detail-type). The event's id is the
// delivery id: EventBridge keeps it when it retries. Event.Type is the
// detail-type, and package awsevents normalizes the CodeBuild and ECR
// events; any other event is accepted unnormalized.
package eventbridge
