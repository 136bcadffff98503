// Package pubsub is the connector for Google Cloud Pub/Sub push
// subscriptions, the way Cloud Build and Artifact Registry (and the
// Container Registry before it) deliver their notifications.
//
// It implements the push contract of https://cloud.google.com/pubsub/docs/push
// and https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions,
// and the messages of https://cloud.google.com/build/docs/subscribe-build-notifications
// and https://cloud.google.com/artifact-registry/docs/configure-notifications:
//
//   - Authentication: the push subscription's OIDC token, in
//     Authorization: Bearer, checked with go-jose
//     (https://github.com/go-jose/go-jose), not by hand: a JWT signed
//     with RS256 (every other algorithm, "none" and HS256 included, is
//     refused before any key is looked up) by the key its kid names in
//     the JSON Web Key Set at settings.keys_url (default Google's,
//     https://www.googleapis.com/oauth2/v3/certs, the jwks_uri of
//     https://accounts.google.com/.well-known/openid-configuration; the
//     Pub/Sub page does not name it); iss https://accounts.google.com or
//     accounts.google.com (settings.issuers overrides them); aud
//     settings.audience exactly (the audience set on the subscription, by
//     default its push endpoint URL); email one of
//     settings.service_accounts (compared without regard to case) with
//     email_verified true; exp and iat present, and the receive time
//     between iat and exp within Leeway (1 minute; nbf too when sent).
//     The source needs no shared secret: Verify ignores the source's
//     secrets, and HasKeys is true once the audience and a service
//     account are set. Settings without them verify nothing. The token
//     proves who sent the delivery, not what it holds: it does not cover
//     the body, so whoever captures one (TLS prevents that) could send
//     other bodies with it until it expires, an hour at most; the
//     message id de-duplicates only resends of the same message.
//   - Keys: fetched with keyfetch (https only, http on a loopback address
//     for an air-gapped mirror or a test; a timeout; no redirects), kept
//     as long as Cache-Control allows (between a minute and a day), and
//     fetched again at most once a minute for a kid the set lacks (a key
//     Google has just published). A document is parsed once per fetch,
//     not per delivery. When no key set can be had the delivery is
//     refused with ErrUnavailable (503 and Retry-After, so Pub/Sub
//     delivers it again), never ErrUnauthorized. A token whose signature
//     verified is remembered (by its SHA-256) while the same key set is
//     held, so the token Pub/Sub sends with every delivery costs one RSA
//     verification, not one each; its claims are checked every time.
//   - Subscriptions: settings.subscriptions, when set, lists the
//     subscriptions ("projects/P/subscriptions/S") whose deliveries are
//     accepted, checked against the envelope's subscription in Parse
//     (the token does not name it); another is refused with an error
//     that is both ErrUnauthorized (401) and ErrMalformed.
//   - Envelope: the wrapped push format only, {"message": {"data",
//     "attributes", "messageId", "message_id", "publishTime"},
//     "subscription"}; payload unwrapping must be off (its metadata
//     headers are UNCONFIRMED). data is standard base64. Content-Type, if
//     sent, must be application/json.
//   - Delivery id: message.messageId, else message_id (older
//     envelopes); the two must agree. Pub/Sub keeps a message's id when
//     it delivers it again (UNCONFIRMED wording, see the providers
//     notes).
//   - Event types: Pub/Sub names none, so Event.Type says what the
//     message was recognised as. "cloud-build": attributes buildId and
//     status (topic cloud-builds, or the build's options.pubsubTopic).
//     "gcr": data a JSON object with action and a digest or tag (topic
//     gcr). "pubsub": anything else, unnormalized.
//   - Payload: for "cloud-build" and "gcr" the decoded data (the Build
//     resource, the notification), so triggers read its fields; for
//     "pubsub" the envelope as received, which keeps the attributes (its
//     data stays base64). Either was decoded whole, so Result.Checked is
//     true.
//   - Cloud Build: the Build resource's status gives the kind and, in
//     lower case, the action: PENDING and QUEUED build.queued, WORKING
//     build.started, SUCCESS, FAILURE, INTERNAL_ERROR, TIMEOUT, CANCELLED
//     and EXPIRED build.finished (outcomes success, failure, failure,
//     timed_out, cancelled, cancelled), anything else other.
//     Build.ID is its id (which must match the buildId attribute);
//     Build.Name the substitution TRIGGER_NAME, else buildTriggerId;
//     Build.Trigger buildTriggerId; Build.URL and Event.URL logUrl;
//     StartedAt startTime; UpdatedAt finishTime, else startTime, else
//     createTime. Repository, branch or tag, and commit come from the
//     default substitutions of a triggered build (REPO_FULL_NAME, else
//     REPO_NAME; BRANCH_NAME; TAG_NAME; COMMIT_SHA), else from
//     source.repoSource or source.gitSource and sourceProvenance
//     (resolvedRepoSource.commitSha, resolvedGitSource.revision); a Git
//     URL also gives Repository.URL. A finished build's first pushed
//     image (results.images[].name and digest) is its Artifact; the
//     payload lists them all. The Build field names beyond status, the
//     substitution REPO_FULL_NAME and sourceProvenance.resolvedGitSource
//     are UNCONFIRMED against a live message.
//   - Artifact Registry / Container Registry: action INSERT (an image
//     pushed, or a tag added) is artifact.published with action
//     "inserted"; DELETE is other with action "deleted"; another action
//     is other. The Artifact's Repository is the image with its registry
//     host and without tag or digest (e.g.
//     "us-docker.pkg.dev/p/r/img", "gcr.io/p/img"), Tag and Digest come
//     from the tag and digest references (which must name the same
//     image), DigestMissing says there was no digest, and Reference
//     pulls it by digest, else by tag. A notification with a digest and
//     no tag (a push by digest) and one with a tag only (a tag removed)
//     are UNCONFIRMED shapes.
//   - Sign (for tests and `reflex send`) reads the secret as a PEM RSA
//     private key, not a shared secret, and makes a token as Pub/Sub's
//     for the configured audience and first service account; the source
//     must then fetch its public key (PublicKeySet) from
//     settings.keys_url. The User-Agent Delivery sets is UNCONFIRMED.
package pubsub
