package jenkins

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes the
// Notification plugin's deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Jenkins (Notification plugin, JSON format)",
		Scheme:       "token in the URL, a header or Basic credentials, constant time; optional confirmation with Jenkins",
		Verification: "nothing is signed: a token in the URL path (`/hooks/<source>/<token>`, the default), in settings.token_header, or Basic credentials from the endpoint URL's `user:password`, compared whole with the source's secret; with settings.confirm, a finished build counts once Jenkins' API confirms its result",
		DeliveryID:   "SHA-256 of the body (the plugin sends no delivery id)",
		Setup:        "a Job Notifications endpoint: protocol HTTP, format JSON, event all (or finalized), URL `https://<reflex>/hooks/<source>/<token>` (or a secret URL credential holding it)",
		Events: []connectors.EventDoc{
			{Type: "QUEUED", Kinds: []string{"build.queued"}},
			{Type: "STARTED", Kinds: []string{"build.started"}},
			{Type: "COMPLETED", Kinds: []string{"other"}, Note: "the result is known but the build is not over; FINALIZED is the one build.finished, so triggers fire once"},
			{Type: "FINALIZED", Kinds: []string{"build.finished", "other"}, Note: "status SUCCESS success, FAILURE and UNSTABLE failure (action unstable), ABORTED cancelled, NOT_BUILT skipped; an unknown result is other"},
		},
		Docs: []string{
			"https://plugins.jenkins.io/notification/",
			"https://github.com/jenkinsci/notification-plugin/blob/master/src/main/java/com/tikal/hudson/plugins/notification/Phase.java",
			"https://www.jenkins.io/doc/book/using/remote-access-api/",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
