package quay

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Quay's
// notifications.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Quay.io and Red Hat Quay (repository notifications, webhook method)",
		Scheme:       "token in the URL path, constant time",
		Verification: "nothing is signed: the notification's URL ends in the source's secret, /hooks/{source}/{token}, compared in constant time (never from the query string or a header, never logged); an IP allow-list policy is recommended, and settings.confirm asks the registry whether a pushed tag exists before the event counts",
		DeliveryID:   "none is sent: the SHA-256 of the body; a build event's has its type appended (Quay sends one body for every event of a build), a repo_push of several tags numbers each (<id>.1, …)",
		Setup:        "repository → Settings → Create Notification, method Webhook POST, URL https://<reflex>/hooks/<source>/<secret>?event=<event> (the event parameter names the event, which Quay does not send); no JSON template",
		Events: []connectors.EventDoc{
			{Type: EventRepoPush, Kinds: []string{"artifact.published", "other"}, Note: "one event per updated tag (a batch when there are several), no digest (digest_missing); a push that updated no tag is other"},
			{Type: EventBuildQueued, Kinds: []string{"build.queued"}},
			{Type: EventBuildStart, Kinds: []string{"build.started"}, Note: "only with ?event=build_start: its payload is the same as build_cancelled's"},
			{Type: EventBuildSuccess, Kinds: []string{"build.finished"}, Note: "outcome success; without ?event=, only when the payload has image_id or manifest_digests"},
			{Type: EventBuildFailure, Kinds: []string{"build.finished"}, Note: "outcome failure; without ?event=, only when the payload has error_message"},
			{Type: EventBuildCancelled, Kinds: []string{"build.finished"}, Note: "outcome cancelled; only with ?event=build_cancelled"},
			{Type: EventBuild, Kinds: []string{"other"}, Note: "a build event neither the URL nor the payload names"},
			{Type: EventVulnerabilityFound, Kinds: []string{"other"}, Note: "action vulnerability_found, with the image (and its tag or digest when it names one alone)"},
			{Type: EventMirrorSyncStarted, Kinds: []string{"unnormalized"}},
			{Type: EventMirrorSyncSuccess, Kinds: []string{"unnormalized"}},
			{Type: EventMirrorSyncFailed, Kinds: []string{"unnormalized"}},
			{Type: EventNotification, Kinds: []string{"unnormalized"}, Note: "a payload of no known shape, without ?event="},
		},
		Docs: []string{
			"https://docs.quay.io/guides/notifications.html",
			"https://docs.redhat.com/en/documentation/red_hat_quay/3.8/html/use_red_hat_quay/repository_notifications",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
