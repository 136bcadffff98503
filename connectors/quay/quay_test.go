package quay_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/quay"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: each fixture must
// normalize to the kind its name promises.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"repo_push":                           event.KindArtifactPublished,
		"repo_push.tags":                      event.KindArtifactPublished + "," + event.KindArtifactPublished + "," + event.KindArtifactPublished,
		"build_queued":                        event.KindBuildQueued,
		"build_start.without-event-parameter": event.KindOther,
		"build_success":                       event.KindBuildFinished,
		"build_failure":                       event.KindBuildFinished,
		"vulnerability_found":                 event.KindOther,
	})
}

// withEvent returns a change that names the event in the URL.
func withEvent(typ string) func(*connectors.Request) {
	return func(r *connectors.Request) { r.Query = url.Values{quay.QueryEvent: {typ}} }
}

// TestRefusals: what Verify (or Parse) must refuse, each with a message
// that tells the sender what is wrong and never echoes the token.
func TestRefusals(t *testing.T) {
	setToken := func(v string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.PathToken = v }
	}
	noToken := func(r *connectors.Request) { r.PathToken = "" }
	setBody := func(body string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Body = []byte(body) }
	}
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "no token", Fixture: "repo_push", Change: noToken, Want: connectors.ErrUnauthorized, Says: "must end in the source's token, /hooks/acme-quay/<token>"},
		{Name: "wrong token", Fixture: "repo_push", Change: setToken("qy-guess"), Want: connectors.ErrUnauthorized, Says: "does not match the source's secret"},
		{Name: "token with a suffix", Fixture: "repo_push", Change: setToken(string(testSecret) + "/"), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "token in the query string", Fixture: "repo_push", Change: func(r *connectors.Request) {
			noToken(r)
			r.Query = url.Values{"token": {string(testSecret)}}
		}, Want: connectors.ErrUnauthorized, Says: "a token in the query string or a header is not read"},
		{Name: "token in a header", Fixture: "repo_push", Change: func(r *connectors.Request) {
			noToken(r)
			r.Header.Set("Authorization", "Bearer "+string(testSecret))
		}, Want: connectors.ErrUnauthorized, Says: "must end in the source's token"},
		{Name: "empty secret", Fixture: "repo_push", Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no secrets", Fixture: "repo_push", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "not JSON", Fixture: "repo_push", Change: setBody(`updated_tags=latest`), Want: connectors.ErrMalformed, Says: "not a Quay notification"},
		{Name: "no repository", Fixture: "repo_push", Change: setBody(`{"docker_url":"quay.io/acme/api","updated_tags":["v1"]}`), Want: connectors.ErrMalformed, Says: "repository is missing"},
		{Name: "repository without namespace", Fixture: "repo_push", Change: setBody(`{"repository":"api","docker_url":"quay.io/api","updated_tags":["v1"]}`), Want: connectors.ErrMalformed, Says: "not <namespace>/<name>"},
		{Name: "repository not a name", Fixture: "repo_push", Change: setBody(`{"repository":"acme/../api","docker_url":"quay.io/acme/../api","updated_tags":["v1"]}`), Want: connectors.ErrMalformed, Says: "not a Quay repository name"},
		{Name: "no docker_url", Fixture: "repo_push", Change: setBody(`{"repository":"acme/api","updated_tags":["v1"]}`), Want: connectors.ErrMalformed, Says: "docker_url is missing"},
		{Name: "docker_url of another repository", Fixture: "repo_push", Change: setBody(`{"repository":"acme/api","docker_url":"quay.io/evil/api","updated_tags":["v1"]}`), Want: connectors.ErrMalformed, Says: "docker_url is not the registry's host and the repository"},
		{Name: "docker_url with a scheme", Fixture: "repo_push", Change: setBody(`{"repository":"acme/api","docker_url":"https://quay.io/acme/api","updated_tags":["v1"]}`), Want: connectors.ErrMalformed, Says: "docker_url is not"},
		{Name: "bad tag", Fixture: "repo_push", Change: setBody(`{"repository":"acme/api","docker_url":"quay.io/acme/api","updated_tags":["v1","a b"]}`), Want: connectors.ErrMalformed, Says: "updated_tags[1] is not a tag"},
		{Name: "updated_tags not a list", Fixture: "repo_push", Change: setBody(`{"repository":"acme/api","docker_url":"quay.io/acme/api","updated_tags":"v1"}`), Want: connectors.ErrMalformed, Says: "updated_tags"},
		{Name: "too many tags", Fixture: "repo_push", Change: setBody(`{"repository":"acme/api","docker_url":"quay.io/acme/api","updated_tags":["t` + strings.Repeat(`","t`, connectors.MaxBatch) + `"]}`), Want: connectors.ErrMalformed, Says: "more than the 100 events"},
		{Name: "unknown event parameter", Fixture: "repo_push", Change: withEvent("push"), Want: connectors.ErrMalformed, Says: "event parameter is not a Quay event"},
		{Name: "event parameter twice", Fixture: "repo_push", Change: func(r *connectors.Request) {
			r.Query = url.Values{quay.QueryEvent: {quay.EventRepoPush, quay.EventRepoPush}}
		}, Want: connectors.ErrMalformed, Says: "names the event more than once"},
		{Name: "build event parameter on a push", Fixture: "repo_push", Change: withEvent(quay.EventBuildSuccess), Want: connectors.ErrMalformed, Says: "says build_success, but the payload is a repo_push (it has updated_tags)"},
		{Name: "push event parameter on a build", Fixture: "build_success", Change: withEvent(quay.EventRepoPush), Want: connectors.ErrMalformed, Says: "payload is a build event (it has build_id)"},
		{Name: "success parameter on a failure", Fixture: "build_failure", Change: withEvent(quay.EventBuildSuccess), Want: connectors.ErrMalformed, Says: "says build_success, but the payload is a build_failure's"},
		{Name: "start parameter on a queued build", Fixture: "build_queued", Change: withEvent(quay.EventBuildStart), Want: connectors.ErrMalformed, Says: "payload is a build_queued's"},
		{Name: "vulnerability parameter on a push", Fixture: "repo_push", Change: withEvent(quay.EventVulnerabilityFound), Want: connectors.ErrMalformed, Says: "payload is a repo_push"},
		{Name: "form body", Fixture: "repo_push", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "text/plain") }, Want: connectors.ErrUnsupportedMediaType, Says: "Quay sends application/json"},
	})
}

// TestTokenOnlyInThePath: the connector reads the URL's token and nothing
// else, wherever else the secret is put.
func TestTokenOnlyInThePath(t *testing.T) {
	t.Parallel()
	secret := string(testSecret)
	c := quay.New()
	if !c.(connectors.PathTokenTaker).TakesPathToken() {
		t.Fatal("TakesPathToken() = false")
	}
	for name, req := range map[string]connectors.Request{
		"query":                   {Query: url.Values{"token": {secret}}},
		"bearer":                  {Header: http.Header{"Authorization": {"Bearer " + secret}}},
		"custom header":           {Header: http.Header{"X-Quay-Token": {secret}}},
		"path wrong, query right": {PathToken: "nope", Query: url.Values{"token": {secret}}},
	} {
		if req.Header == nil {
			req.Header = http.Header{}
		}
		err := c.Verify(context.Background(), &req, [][]byte{testSecret})
		if !errors.Is(err, connectors.ErrUnauthorized) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: Verify = %v, want ErrUnauthorized without the token", name, err)
		}
	}
	if err := c.Verify(context.Background(), &connectors.Request{PathToken: secret, Header: http.Header{}}, [][]byte{[]byte("old"), testSecret}); err != nil {
		t.Errorf("the URL's token, second secret: %v", err)
	}
}

// parse parses body as a delivery with Quay's header, posted to a URL
// with the event parameter typ when it is not empty.
func parse(t *testing.T, typ, body string) (*connectors.Result, error) {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	req := &connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt}
	if typ != "" {
		req.Query = url.Values{quay.QueryEvent: {typ}}
	}
	return quay.New().Parse(req)
}

// The repository fields every notification has.
const repoFields = `"repository":"acme/api","namespace":"acme","name":"api","docker_url":"quay.io/acme/api","homepage":"https://quay.io/repository/acme/api"`

// TestEventType: the URL's event parameter names the event; without it,
// the payload's shape does, as far as it can.
func TestEventType(t *testing.T) {
	t.Parallel()
	build := `"build_id":"b1","build_name":"abc1234","docker_tags":["latest"],"trigger_kind":"github","trigger_id":"t1","trigger_metadata":{"commit":"b7f7d2b948aacbe844ee465122a85a9368b2b735","ref":"refs/heads/main"}`
	tests := []struct {
		name, query, fields string
		wantType            string
		wantKind            event.Kind
		wantOutcome         event.Outcome
	}{
		{name: "push", fields: `"updated_tags":["v1"]`, wantType: quay.EventRepoPush, wantKind: event.KindArtifactPublished},
		{name: "push named", query: quay.EventRepoPush, fields: `"updated_tags":["v1"]`, wantType: quay.EventRepoPush, wantKind: event.KindArtifactPublished},
		{name: "push of no tag", fields: `"updated_tags":[]`, wantType: quay.EventRepoPush, wantKind: event.KindOther},
		{name: "queued", fields: `"build_id":"b1","docker_tags":["latest"],"repo":"api","is_manual":true,"manual_user":"jdoe"`, wantType: quay.EventBuildQueued, wantKind: event.KindBuildQueued},
		{name: "is_manual beside build_name", fields: build + `,"is_manual":true`, wantType: quay.EventBuild, wantKind: event.KindOther},
		{name: "failure", fields: build + `,"error_message":"boom"`, wantType: quay.EventBuildFailure, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeFailure},
		{name: "failure named", query: quay.EventBuildFailure, fields: build + `,"error_message":"boom"`, wantType: quay.EventBuildFailure, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeFailure},
		{name: "success by image_id", fields: build + `,"image_id":"abc"`, wantType: quay.EventBuildSuccess, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeSuccess},
		{name: "success by digests", fields: build + `,"manifest_digests":["sha256:` + strings.Repeat("0", 64) + `"]`, wantType: quay.EventBuildSuccess, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeSuccess},
		{name: "bare build", fields: build, wantType: quay.EventBuild, wantKind: event.KindOther},
		{name: "bare build named start", query: quay.EventBuildStart, fields: build, wantType: quay.EventBuildStart, wantKind: event.KindBuildStarted},
		{name: "bare build named success", query: quay.EventBuildSuccess, fields: build, wantType: quay.EventBuildSuccess, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeSuccess},
		{name: "bare build named failure", query: quay.EventBuildFailure, fields: build, wantType: quay.EventBuildFailure, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeFailure},
		{name: "bare build named cancelled", query: quay.EventBuildCancelled, fields: build, wantType: quay.EventBuildCancelled, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeCancelled},
		{name: "vulnerability", fields: `"tags":["v1"],"vulnerability":{"id":"CVE-1","priority":"High"}`, wantType: quay.EventVulnerabilityFound, wantKind: event.KindOther},
		{name: "vulnerabilities", fields: `"tags":["v1","v2"],"vulnerabilities":[{"id":"CVE-1","priority":"High"}]`, wantType: quay.EventVulnerabilityFound, wantKind: event.KindOther},
		{name: "mirror", fields: `"message":"TEST NOTIFICATION"`, wantType: quay.EventNotification, wantKind: event.KindUnnormalized},
		{name: "mirror named", query: quay.EventMirrorSyncFailed, fields: `"message":"TEST NOTIFICATION"`, wantType: quay.EventMirrorSyncFailed, wantKind: event.KindUnnormalized},
	}
	for _, tt := range tests {
		res, err := parse(t, tt.query, `{`+repoFields+`,`+tt.fields+`}`)
		if err != nil {
			t.Errorf("%s: Parse: %v", tt.name, err)
			continue
		}
		ev := res.Event
		if ev.Type != tt.wantType || ev.Kind != tt.wantKind {
			t.Errorf("%s: type %q, kind %q; want %q, %q", tt.name, ev.Type, ev.Kind, tt.wantType, tt.wantKind)
		}
		if ev.Build != nil && ev.Build.Outcome != tt.wantOutcome {
			t.Errorf("%s: outcome %q, want %q", tt.name, ev.Build.Outcome, tt.wantOutcome)
		}
		if got := quay.New().(connectors.Simulator).EventType(nil, []byte(`{`+repoFields+`,`+tt.fields+`}`)); tt.query == "" && got != tt.wantType {
			t.Errorf("%s: EventType = %q, want %q", tt.name, got, tt.wantType)
		}
	}
}

// TestBuildIDs: Quay sends the same body for every event of a build, so
// the event named in the URL tells their ids apart; each id is stable.
func TestBuildIDs(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(quay.Name, "build_start.without-event-parameter")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, typ := range []string{"", quay.EventBuildStart, quay.EventBuildSuccess, quay.EventBuildFailure, quay.EventBuildCancelled} {
		res, err := parse(t, typ, string(f.Body))
		if err != nil {
			t.Fatalf("%q: %v", typ, err)
		}
		again, err := parse(t, typ, string(f.Body))
		if err != nil {
			t.Fatal(err)
		}
		id := res.Event.ID
		if again.Event.ID != id {
			t.Errorf("%q: the id changed from %q to %q", typ, id, again.Event.ID)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%q and %q share the id %q", typ, other, id)
		}
		seen[id] = typ
		if want := connectors.ContentHash(f.Body) + "." + res.Event.Type; id != want || res.Event.IDFrom != connectors.IDFromContentHash {
			t.Errorf("%q: id %q from %q, want %q", typ, id, res.Event.IDFrom, want)
		}
		if err := connectors.CheckDeliveryID("id", id); err != nil {
			t.Error(err)
		}
	}
}

// TestBatchIDs: a repo_push of several tags is a batch whose events have
// distinct ids, stable across deliveries of the same body, each a valid
// delivery id; a push of one tag is one event with the body's hash.
func TestBatchIDs(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(quay.Name, "repo_push.tags")
	if err != nil {
		t.Fatal(err)
	}
	first, err := parse(t, "", string(f.Body))
	if err != nil {
		t.Fatal(err)
	}
	again, err := parse(t, quay.EventRepoPush, string(f.Body))
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Batch) != 3 || first.Event != nil || len(again.Batch) != 3 {
		t.Fatalf("got a batch of %d (and %d), event %v; want 3 events", len(first.Batch), len(again.Batch), first.Event)
	}
	ids := map[string]bool{}
	for i, r := range first.Batch {
		id := r.Event.ID
		if err := connectors.CheckDeliveryID("id", id); err != nil {
			t.Error(err)
		}
		if ids[id] {
			t.Errorf("id %q repeats", id)
		}
		ids[id] = true
		if again.Batch[i].Event.ID != id {
			t.Errorf("event %d: id %q, then %q", i, id, again.Batch[i].Event.ID)
		}
		if !strings.HasPrefix(id, connectors.ContentHash(f.Body)+".") {
			t.Errorf("event %d: id %q is not derived from the body's hash", i, id)
		}
		if r.Event.Tag != r.Event.Artifact.Tag || string(r.Payload) != string(f.Body) || !r.Checked {
			t.Errorf("event %d: tag %q, artifact %+v, payload kept %v, checked %v", i, r.Event.Tag, r.Event.Artifact, string(r.Payload) == string(f.Body), r.Checked)
		}
	}
	// The events share nothing: changing one leaves the others alone.
	first.Batch[0].Event.Artifact.Tag = "changed"
	if first.Batch[1].Event.Artifact.Tag == "changed" {
		t.Error("the batch's events share their artifact")
	}
	single, err := parse(t, "", `{`+repoFields+`,"updated_tags":["v1"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if single.Batch != nil || single.Event.ID != connectors.ContentHash([]byte(`{`+repoFields+`,"updated_tags":["v1"]}`)) {
		t.Errorf("a push of one tag: batch %v, id %q", single.Batch, single.Event.ID)
	}
}

// TestUpdatedTagsObject: older Quay versions sent updated_tags as an
// object from tag to image id; its tags are read in sorted order, and the
// image id, no manifest digest, is not taken for one.
func TestUpdatedTagsObject(t *testing.T) {
	t.Parallel()
	res, err := parse(t, "", `{`+repoFields+`,"updated_tags":{"latest":"b750fe79269d2ec9a3c593ef05b4332b1d1a02a62b4accb2c21d589ff2f5f2dc","v1":"b750fe79269d2ec9a3c593ef05b4332b1d1a02a62b4accb2c21d589ff2f5f2dc"}}`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Batch {
		a := r.Event.Artifact
		got = append(got, a.Reference)
		if a.Digest != "" || !a.DigestMissing {
			t.Errorf("artifact %+v names a digest", a)
		}
	}
	if strings.Join(got, " ") != "quay.io/acme/api:latest quay.io/acme/api:v1" {
		t.Errorf("references %q", got)
	}
}

// TestSelfHosted: a Red Hat Quay installation's images are named by its
// host, port included.
func TestSelfHosted(t *testing.T) {
	t.Parallel()
	for dockerURL, ok := range map[string]bool{
		"quay.example.com/acme/api":        true,
		"quay.example.com:8443/acme/api":   true,
		"10.0.0.7:5000/acme/api":           true,
		"quay.example.com:x/acme/api":      false,
		"quay..example.com/acme/api":       false,
		"quay.example.com/x/acme/api":      false,
		"user@quay.example.com/acme/api":   false,
		"quay.example.com/acme/api:latest": false,
	} {
		res, err := parse(t, "", `{"repository":"acme/api","docker_url":"`+dockerURL+`","updated_tags":["v1"]}`)
		if !ok {
			if !errors.Is(err, connectors.ErrMalformed) {
				t.Errorf("%s: Parse = %v, want ErrMalformed", dockerURL, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Parse: %v", dockerURL, err)
			continue
		}
		if a := res.Event.Artifact; a.Repository != dockerURL || a.Reference != dockerURL+":v1" {
			t.Errorf("%s: artifact %+v", dockerURL, a)
		}
	}
}

// TestVulnerability: a vulnerability_found names its image, and its tag
// or digest when it names one alone.
func TestVulnerability(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("c", 64)
	for tags, want := range map[string]event.Artifact{
		`["v1"]`:             {Type: "container", Repository: "quay.io/acme/api", Tag: "v1", DigestMissing: true, Reference: "quay.io/acme/api:v1"},
		`["` + digest + `"]`: {Type: "container", Repository: "quay.io/acme/api", Digest: digest, Reference: "quay.io/acme/api@" + digest},
		`["v1","latest"]`:    {Type: "container", Repository: "quay.io/acme/api", DigestMissing: true},
		`[]`:                 {Type: "container", Repository: "quay.io/acme/api", DigestMissing: true},
	} {
		res, err := parse(t, "", `{`+repoFields+`,"tags":`+tags+`,"vulnerability":{"id":"CVE-1"}}`)
		if err != nil {
			t.Fatalf("%s: %v", tags, err)
		}
		if got := *res.Event.Artifact; got != want || res.Event.Action != quay.EventVulnerabilityFound {
			t.Errorf("%s: artifact %+v, action %q; want %+v", tags, got, res.Event.Action, want)
		}
	}
}

// TestBuildFields: a build names its commit, its branch or tag, and who
// started it.
func TestBuildFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query, fields                       string
		commit, branch, tag, actor, trigger string
		status                              event.BuildStatus
	}{
		{fields: `"trigger_kind":"github","trigger_metadata":{"commit":"b7f7d2b948aacbe844ee465122a85a9368b2b735","ref":"refs/heads/main","commit_info":{"author":{"username":"jdoe"}}}`,
			commit: "b7f7d2b948aacbe844ee465122a85a9368b2b735", branch: "main", actor: "jdoe", trigger: "github"},
		{fields: `"trigger_kind":"gitlab","trigger_metadata":{"commit_sha":"b7f7d2b948aacbe844ee465122a85a9368b2b735","ref":"refs/tags/v1.5.0"}`,
			commit: "b7f7d2b948aacbe844ee465122a85a9368b2b735", tag: "v1.5.0", trigger: "gitlab"},
		{query: quay.EventBuildQueued, fields: `"is_manual":true,"manual_user":"asmith","trigger_kind":null,"trigger_metadata":{}`, actor: "asmith", trigger: "manual", status: event.BuildQueued},
		{fields: `"trigger_metadata":{"commit":"not-a-sha","ref":"refs/pull/4/head"}`},
	}
	for _, tt := range tests {
		if tt.query == "" {
			tt.query, tt.status = quay.EventBuildStart, event.BuildRunning
		}
		res, err := parse(t, tt.query, `{`+repoFields+`,"build_id":"b1",`+tt.fields+`}`)
		if err != nil {
			t.Fatalf("%s: %v", tt.fields, err)
		}
		ev := res.Event
		if ev.Commit != tt.commit || ev.Branch != tt.branch || ev.Tag != tt.tag || ev.Actor != tt.actor || ev.Build.Trigger != tt.trigger {
			t.Errorf("%s: commit %q branch %q tag %q actor %q trigger %q", tt.fields, ev.Commit, ev.Branch, ev.Tag, ev.Actor, ev.Build.Trigger)
		}
		if ev.Build.ID != "b1" || ev.Build.Name != "acme/api" || ev.Build.Status != tt.status || ev.Repository != nil {
			t.Errorf("%s: build %+v, repository %v", tt.fields, ev.Build, ev.Repository)
		}
	}
}

// TestSimulator: a simulated delivery is the payload as it is, and its
// event type is what its shape says.
func TestSimulator(t *testing.T) {
	t.Parallel()
	sim := quay.New().(connectors.Simulator)
	for _, f := range kit.Fixtures(t) {
		h, body := sim.Delivery("ignored", "ignored", f.Body)
		if string(body) != string(f.Body) || h.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: Delivery changed the payload or sent %v", f.Name, h)
		}
		want := strings.SplitN(f.Name, ".", 2)[0]
		if want == quay.EventBuildStart {
			want = quay.EventBuild
		}
		if got := sim.EventType(h, body); got != want {
			t.Errorf("%s: EventType = %q, want %q", f.Name, got, want)
		}
	}
	if got := sim.EventType(nil, []byte(`not json`)); got != "" {
		t.Errorf("EventType of no notification = %q", got)
	}
}
