package harbor

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Harbor's
// webhook notifications.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Harbor (project webhook policies, HTTP targets; Default and CloudEvents payload formats)",
		Scheme:       "Authorization header value, constant time",
		Verification: "nothing is signed: the webhook policy's Auth Header, sent as the Authorization header, compared whole with the source's secret",
		DeliveryID:   "SHA-256 of the body (the Default format has no id); the CloudEvents format's id",
		Setup:        "a webhook policy with notify type HTTP, payload format Default or CloudEvents, and an Auth Header value equal to the source's secret",
		Events: []connectors.EventDoc{
			{Type: "PUSH_ARTIFACT", Kinds: []string{"artifact.published"}, Note: "image `<host>/<repo_full_name>`, the host from resource_url; one event per resource (a batch when several)"},
			{Type: "PULL_ARTIFACT", Kinds: []string{"other"}, Note: "action pulled"},
			{Type: "DELETE_ARTIFACT", Kinds: []string{"other"}, Note: "action deleted, with the artifact"},
			{Type: "SCANNING_COMPLETED", Kinds: []string{"other"}, Note: "action scanned, with the artifact; the scan overview stays in the payload"},
			{Type: "SCANNING_FAILED", Kinds: []string{"other"}, Note: "action scan_failed"},
			{Type: "SCANNING_STOPPED", Kinds: []string{"other"}, Note: "action scan_stopped"},
			{Type: "QUOTA_EXCEED", Kinds: []string{"other"}, Note: "action quota_exceeded"},
			{Type: "QUOTA_WARNING", Kinds: []string{"other"}, Note: "action quota_warning"},
			{Type: "REPLICATION", Kinds: []string{"other"}, Note: "action replicated; details in the payload"},
			{Type: "TAG_RETENTION", Kinds: []string{"other"}, Note: "action retention_finished; details in the payload"},
			{Type: "harbor.artifact.pushed", Kinds: []string{"artifact.published"}, Note: "CloudEvents format; every harbor.* type reads as its Default type"},
			{Type: "harbor.artifact.pulled", Kinds: []string{"other"}},
			{Type: "harbor.artifact.deleted", Kinds: []string{"other"}},
			{Type: "harbor.scan.completed", Kinds: []string{"other"}},
			{Type: "harbor.scan.failed", Kinds: []string{"other"}},
			{Type: "harbor.scan.stopped", Kinds: []string{"other"}},
			{Type: "harbor.quota.exceeded", Kinds: []string{"other"}},
			{Type: "harbor.quota.warned", Kinds: []string{"other"}},
			{Type: "harbor.replication.status.changed", Kinds: []string{"other"}},
			{Type: "harbor.tag_retention.finished", Kinds: []string{"other"}},
		},
		Docs: []string{
			"https://goharbor.io/docs/latest/working-with-projects/project-configuration/configure-webhooks/",
			"https://github.com/goharbor/harbor/blob/main/src/pkg/notifier/model/event.go",
			"https://github.com/goharbor/harbor/blob/main/src/pkg/notifier/formats/cloudevents.go",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
