// Package jenkins is the connector for Jenkins build notifications sent by
// the Notification plugin (plugin id "notification",
// https://plugins.jenkins.io/notification/): one JSON document per build
// phase, for the endpoints a job lists under "Job Notifications".
//
// It implements the plugin's delivery as its source defines it
// (https://github.com/jenkinsci/notification-plugin: Protocol.java sends,
// Phase.java and model/ build the document, Format.java names the fields
// in snake_case): name (the job's short name), url (the job's URL relative
// to Jenkins' root, "job/folder/job/name/"), build.full_url,
// build.number, build.queue_id, build.phase (QUEUED, STARTED, COMPLETED,
// FINALIZED), build.status (the result: SUCCESS, UNSTABLE, FAILURE,
// NOT_BUILT, ABORTED), build.url, build.scm (url, branch, commit),
// build.parameters, build.log, build.timestamp (milliseconds since the
// epoch; a string in old versions), build.duration.
//
// Verification: the plugin signs nothing and cannot add a header; it sends
// an Authorization header only for user information in the endpoint URL
// (Basic, the URL's "user:password" as written). One mode per source
// (settings.token_in):
//
//   - "url" (the default, which every version of the plugin can use): the
//     endpoint is https://reflex.example/hooks/<source>/<token>, and the
//     token is compared in constant time with each of the source's
//     secrets. The plugin's "secret URL" option (a Jenkins credential
//     holding the URL) keeps it out of the job configuration.
//   - "basic": the endpoint URL carries "user:password@", which the plugin
//     sends as Basic credentials; the secret is "user:password", compared
//     whole (percent-escapes stay as written, so use a token without
//     them).
//   - "header": settings.token_header (e.g. X-Jenkins-Token) holds the
//     secret, for a proxy or another sender that sets it.
//
// A token is a secret: no error or log line holds it. Nothing is
// timestamped or signed, so a captured delivery can be replayed; only the
// intake's de-duplication stands in the way. For a source that needs more,
// settings.confirm asks Jenkins itself (below).
//
// Delivery id: none is sent, so the id is the SHA-256 of the body
// (connectors.ContentHash; Event.IDFrom "content-hash"). The plugin's
// retries send the same document (unless it carries a log tail that grew),
// and each phase's document differs from the others'.
//
// Events: Event.Type is the phase. QUEUED is build.queued, STARTED
// build.started, and FINALIZED build.finished, with the outcome of
// build.status: SUCCESS success, FAILURE failure, UNSTABLE failure (the
// build ran but tests or checks failed; Event.Action keeps "unstable"),
// ABORTED cancelled (a timeout aborts a build too, so timed_out never
// appears), NOT_BUILT skipped. COMPLETED is other: Jenkins sends it when
// the result is known but before the build is over (post-build actions
// may still run, and Jenkins' API may still say it is building), then
// FINALIZED when it is; counting both would finish every build twice and fire its
// triggers twice, so FINALIZED is the one build.finished. An endpoint set
// to the "completed" event alone therefore finishes nothing: choose "all"
// or "finalized" (the "failed" events are sent at FINALIZED too). A
// FINALIZED without a result the connector knows is other. Any other
// phase is unnormalized. Event.Action is the result in lower case, for
// COMPLETED and FINALIZED.
//
// The build: Build.Name is the job's full name, "folder/job", read from
// the job's url (the plugin's name is the short name alone), Build.ID
// "<full name>#<number>", Build.Number, Build.URL and Event.URL
// build.full_url (absent when Jenkins has no root URL set), UpdatedAt
// build.timestamp (the phase's time), StartedAt the start (STARTED's
// timestamp, COMPLETED's less the duration). Event.Repository comes from
// build.scm.url, a Git URL (https, ssh or scp-like; its user information,
// which may be a token, is dropped): its path without ".git" ("scm/" of
// Bitbucket Server's clone URLs dropped) is the name, and an http(s) URL
// is also its web page. Commit is build.scm.commit when it is a full SHA,
// Branch build.scm.branch without "origin/" (or "refs/heads/").
//
// Confirmation (connectors.Confirmer): with settings.confirm (the Jenkins
// URL, and a user name), a build.finished is confirmed by asking Jenkins,
// at that URL and never one the payload names:
// GET <url>/job/<a>/job/<b>/<number>/api/json?tree=result,building,number
// with Basic credentials (the user and an API token as password), within
// 10 seconds. It is confirmed when Jenkins says the build is over with a
// result of the event's outcome; a build Jenkins does not know (404) or
// one still building or of another result is not; a network error, a
// refusal of the credentials or a 5xx is connectors.ErrUnavailable, to be
// asked again. Other events are not asked about.
//
// UNCONFIRMED: the plugin's retry count and timeout defaults beyond the
// 30 s providers.md cites; whether every version sends the same document
// on a retry.
package jenkins
