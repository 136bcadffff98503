// Package dockerhub is the connector for Docker Hub repository webhooks,
// which Docker Hub sends when a tag is pushed to a repository.
//
// It implements the delivery contract documented at
// https://docs.docker.com/docker-hub/repos/manage/webhooks/ (the webhook
// and its payload). Docker Hub has no documented API to create webhooks,
// nor documented timeouts or retries: the UI (repository → Webhooks) is
// the way, and its delivery history shows failures.
//
// Docker Hub signs nothing and sends no credential, and a webhook is only
// a name and a URL. So the URL carries the secret: a source of this
// connector is posted to at /hooks/{source}/{token}, and Verify compares
// the token (Request.PathToken) with each of the source's secrets in
// constant time. A delivery to /hooks/{source} alone, or with the token
// in the query string or a header, is refused; the intake redacts the
// token from every log line. As anyone who learns the URL can post to
// it, the docs recommend an IP allow-list policy for such a source, and
// settings.confirm asks the registry whether the pushed tag exists before
// the event changes anything (Confirm, through
// github.com/reflexops/reflex/connectors/registryv2): it asks only the
// registry the settings name (https://registry-1.docker.io by default),
// never a host the payload names.
//
// The payload's callback_url is never called. Docker Hub documents it as
// a legacy field it no longer supports, and calling it would let anyone
// who can post a payload make Reflex send a request to any URL they
// choose.
//
// Every delivery is a push (Event.Type "push") and becomes
// artifact.published: the image docker.io/<namespace>/<name> (an
// official image, repo_name "nginx", is docker.io/library/nginx), the
// tag push_data.tag, the pusher as Actor and repository.repo_url as URL.
// Docker Hub names no digest, so Artifact.DigestMissing is true: the tag
// may point elsewhere by the time anything acts on it, and only a
// confirmation says what it names.
//
// Docker Hub sends no delivery id either: the SHA-256 of the body stands
// in for one (Event.IDFrom "content-hash"). push_data.pushed_at, a time in
// seconds, makes two pushes of the same tag differ, and a resend of the
// same delivery is a duplicate.
package dockerhub
