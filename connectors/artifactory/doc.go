// Package artifactory is the connector for JFrog Artifactory's predefined
// webhooks (the Event service's "webhook" handlers): Docker tag pushes,
// deletions and promotions, and generic artifacts deployed or deleted.
//
// It implements the contract documented at
// https://jfrog.com/help/r/jfrog-platform-administration-documentation/webhooks
// (handlers, the secret and "Use secret for payload signing"),
// https://jfrog.com/help/r/jfrog-platform-administration-documentation/domain-docker
// and https://jfrog.com/help/r/jfrog-platform-administration-documentation/domain-artifact
// (the payload of each event); the envelope (domain, event_type, data,
// subscription_key, jpd_origin, source) is the one those pages show.
//
// Verification, one mode per source (settings.auth):
//
//   - "signed" (the default): the handler has a secret and "Use secret for
//     payload signing" on, and X-JFrog-Event-Auth carries the HMAC-SHA256
//     of the raw body keyed with the secret, in hex, compared in constant
//     time. The secret itself never travels.
//   - "token": the header settings.token_header (X-JFrog-Event-Auth by
//     default, where Artifactory sends the handler's secret as it is
//     when signing is off; or a custom HTTP header of the handler) holds
//     the source's secret, compared whole in constant time.
//
// A signed source that receives the secret itself (signing left off) is
// refused with a message that says so. Nothing is timestamped, so a
// captured delivery can be replayed; only the intake's de-duplication
// stands in the way.
//
// Delivery id: Artifactory sends none, so the id is the SHA-256 of the
// body (connectors.ContentHash; Event.IDFrom "content-hash").
//
// Events: Event.Type is the payload's domain and Event.Action its
// event_type. docker pushed is artifact.published; docker deleted and
// promoted are other, with the image. The image is
// "<host>/<repo_key>/<image_name>" (the repository-path way of pulling
// from Artifactory), the host being settings.registry_host when set
// (the Docker registry's host: a reverse proxy, a custom base URL), else
// the host of the payload's jpd_origin (the platform URL), else
// "artifactory"; its tag is data.tag and its digest "sha256:" and
// data.sha256, the checksum of the tag's manifest, which is the image
// digest. artifact deployed and deleted are other, with the file: type
// guessed from the file name (maven, npm, pypi, nuget, gem, deb, rpm,
// container for a Docker manifest, else generic), repository
// "<host>/<repo_key>", reference
// "<host>/<repo_key>/<path>" and the file's SHA-256. Every other domain
// and event type is unnormalized. The actor is the payload's source
// without its "jfrog/" prefix.
//
// UNCONFIRMED: the encoding of the signed header (hex without a prefix
// is what third-party verifiers check; JFrog's text was not read); the
// shape of docker promoted (read as pushed's); Artifactory's timeout and
// retries; whether jpd_origin is the platform's custom base URL.
package artifactory
