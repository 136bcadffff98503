package quay

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	connquay "github.com/reflexops/reflex/connectors/quay"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/hooks"
)

// TestEventsAreTheConnectors checks that Events are the events the quay
// connector names, no more, no fewer.
func TestEventsAreTheConnectors(t *testing.T) {
	t.Parallel()
	connector := []string{
		connquay.EventRepoPush, connquay.EventBuildQueued, connquay.EventBuildStart, connquay.EventBuildSuccess,
		connquay.EventBuildFailure, connquay.EventBuildCancelled, connquay.EventVulnerabilityFound,
		connquay.EventMirrorSyncStarted, connquay.EventMirrorSyncSuccess, connquay.EventMirrorSyncFailed,
	}
	if !slices.Equal(sortedEvents(Events), sortedEvents(connector)) {
		t.Errorf("Events = %v, the connector's %v", sortedEvents(Events), sortedEvents(connector))
	}
}

// TestConnectorTakesTheURLs posts recorded Quay payloads to the URLs
// Create gives notifications, as Reflex's router reads them (the token
// is the decoded last path segment, the event the query's), and checks
// that the quay connector verifies them with the source's secret and
// reads the declared event.
func TestConnectorTakesTheURLs(t *testing.T) {
	t.Parallel()
	const secret = "s3 cret+%x~1"
	want, err := desired(hooksSpec(secret))
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{
		"repo_push": "repo_push", "build_queued": "build_queued", "build_start": "build_start.without-event-parameter",
		"build_success": "build_success", "build_failure": "build_failure", "build_cancelled": "build_start.without-event-parameter",
		"vulnerability_found": "vulnerability_found",
	}
	c := connquay.New()
	for event, fixture := range bodies {
		f, err := fixtures.Get(connquay.Name, fixture)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(want[event])
		if err != nil {
			t.Fatal(err)
		}
		source, token, ok := strings.Cut(strings.TrimPrefix(u.Path, "/hooks/"), "/")
		if !ok || source != "ci" || token != secret {
			t.Fatalf("%s: the router reads source %q, token %q from %q", event, source, token, want[event])
		}
		req := &connectors.Request{
			Source: source, Method: http.MethodPost, Query: u.Query(), PathToken: token,
			Header: f.Header.Clone(), Body: f.Body, ReceivedAt: time.Now(),
		}
		if err := c.Verify(t.Context(), req, [][]byte{[]byte("other"), []byte(secret)}); err != nil {
			t.Errorf("%s: Verify = %v", event, err)
			continue
		}
		res, err := c.Parse(req)
		if err != nil {
			t.Errorf("%s: Parse = %v", event, err)
			continue
		}
		if res.Event == nil && len(res.Batch) > 0 {
			res = res.Batch[0]
		}
		if res.Event == nil || res.Event.Type != event {
			t.Errorf("%s: the connector reads event %+v", event, res.Event)
		}
	}
}

func hooksSpec(secret string) hooks.Spec {
	s := spec(ciURL, Events...)
	s.Secret = []byte(secret)
	return s
}
