// Package quay is the connector for the webhook notifications of Quay.io
// and Red Hat Quay: a repository's pushes, Dockerfile builds and
// vulnerability reports, sent by the notification method "Webhook POST".
//
// It implements the delivery contract documented at
// https://docs.quay.io/guides/notifications.html and
// https://docs.redhat.com/en/documentation/red_hat_quay/3.8/html/use_red_hat_quay/repository_notifications
// (the events and their payloads), as Quay's source sends them
// (https://github.com/quay/quay, notifications/notificationmethod.py and
// notificationevent.py): a POST of the event's data itself, with only
// "Content-type: application/json", within NOTIFICATION_SEND_TIMEOUT
// (10 s by default); a failure is retried by Quay's notification queue
// (how often is not documented).
//
// Quay signs nothing and sends no credential: a notification is only a
// URL. So the URL carries the secret: a source of this connector is
// posted to at /hooks/{source}/{token}, and Verify compares the token
// (Request.PathToken) with each of the source's secrets in constant time.
// A delivery to /hooks/{source} alone, or with the token in the query
// string or a header, is refused; the intake redacts the token from every
// log line. As anyone who learns the URL can post to it, the docs
// recommend an IP allow-list policy for such a source, and
// settings.confirm asks the registry whether a pushed tag exists before
// the event changes anything (Confirm, through
// github.com/reflexops/reflex/connectors/registryv2): it asks only the
// registry the settings name (https://quay.io by default), never the host
// a payload's docker_url names.
//
// Quay sends the event type nowhere: not in a header, not in the payload.
// Each notification has its own URL, so the URL may name it:
// /hooks/{source}/{token}?event=build_success (QueryEvent; it is not a
// secret, and must be one of Quay's event names). Without it, the
// payload's shape says what it can, by the field only one event's payload
// has:
//
//   - updated_tags: repo_push;
//   - vulnerability (or vulnerabilities): vulnerability_found;
//   - build_id: a build event, and then error_message is build_failure's,
//     image_id or manifest_digests build_success's (older builders sent
//     them; current ones send neither), is_manual without build_name
//     build_queued's. Any other build payload, which build_start,
//     build_cancelled and a current build_success and build_failure all
//     share, is Event.Type "build", kind other: name the event in the
//     URL to have it normalized;
//   - anything else: "notification", unnormalized (repository mirror
//     events, or a payload a notification's JSON template reshaped; do
//     not use templates).
//
// An event parameter that contradicts the shape (build_success for a
// payload with error_message, repo_push for one without updated_tags) is
// refused as malformed: it names a notification's URL copied to another.
//
// repo_push becomes artifact.published, one event per tag of
// updated_tags (a list, or, as older Quay versions sent it, an object
// from tag to image id): the image is docker_url ("quay.io/acme/api"),
// and Artifact.DigestMissing is true, as Quay names no manifest digest. A
// push of several tags is a batch, at most connectors.MaxBatch. Build
// events become build.queued, build.started and build.finished (outcome
// success, failure or cancelled), the build named by its repository
// ("acme/api", one series per repository) and identified by build_id,
// with the commit and the branch or tag its trigger metadata names.
// vulnerability_found is other, with the image.
//
// Quay sends no delivery id (its notification_uuid stays on the server):
// the SHA-256 of the body stands in for one (Event.IDFrom
// "content-hash"). Every event of one build has the same body, so a build
// event's id is the hash and its type ("sha256-….build_success"); a
// repo_push of several tags numbers its events ("sha256-….1", …). A resent
// delivery is a duplicate; so, without the event parameter, are the
// second and later events of one build.
package quay
