// Package harbor is the connector for Harbor's webhook notifications: the
// HTTP targets of a project's webhook policies, in the Default payload
// format or, from Harbor 2.8, the CloudEvents one.
//
// It implements the contract documented at
// https://goharbor.io/docs/latest/working-with-projects/project-configuration/configure-webhooks/
// (events, payload format, the auth header), with the payload shapes of
// Harbor's source (src/pkg/notifier/model/event.go and
// src/pkg/notifier/formats/, https://github.com/goharbor/harbor).
//
// Verification: Harbor signs nothing. A webhook policy's target may carry
// an "Auth Header" value, which Harbor sends verbatim as the
// Authorization header. The source's secret is that whole value, compared
// in constant time with the whole header: "s3cret" when the policy says
// s3cret, "Bearer s3cret" when it says Bearer s3cret. Nothing is parsed
// out of the header, so a scheme word is part of the secret when the
// policy has one. A delivery without an Authorization header is refused:
// a policy without an auth header cannot be verified at all. Nothing is
// timestamped, so a captured delivery can be replayed; only the intake's
// de-duplication stands in the way.
//
// Delivery id: the Default format has none, so the id is the SHA-256 of
// the body (connectors.ContentHash; Event.IDFrom "content-hash"), which
// Harbor's retries (same job, same payload) keep. The CloudEvents format
// gives each notification an id (a UUID), which is the delivery id.
//
// Events (Default type, or its CloudEvents type "harbor.…"):
// PUSH_ARTIFACT is artifact.published; DELETE_ARTIFACT ("deleted"),
// PULL_ARTIFACT ("pulled"), SCANNING_COMPLETED ("scanned"),
// SCANNING_FAILED ("scan_failed"), SCANNING_STOPPED ("scan_stopped"),
// QUOTA_EXCEED ("quota_exceeded"), QUOTA_WARNING ("quota_warning"),
// REPLICATION ("replicated") and TAG_RETENTION ("retention_finished")
// are other, with the action in brackets; any other type (the chart
// events of old versions, tag creation) is unnormalized. Each resource of
// event_data.resources describes one artifact: the image is
// "<host>/<repo_full_name>", the host taken from the resource's
// resource_url (Harbor's external URL); its tag (none when Harbor names
// the artifact by its digest, as it does for a push by digest), its
// digest, and a reference by tag, else by digest. A scan's overview stays
// in the payload (event_data.resources[].scan_overview). A notification
// of several resources is a batch of one event per resource, identified
// "<delivery id>.1", "<delivery id>.2", ….
//
// The CloudEvents format (Content-Type application/cloudevents+json, or a
// body with specversion) is read the same way from its data attribute;
// a batch of CloudEvents, which Harbor does not send, is refused. The
// "Custom" format (a Go template) is not read: choose Default or
// CloudEvents.
//
// UNCONFIRMED: what Harbor's "Test Endpoint" button sends (it is not
// documented); that the CloudEvents id is kept across Harbor's retries
// (the job re-sends the payload it was given, so it should be).
package harbor
