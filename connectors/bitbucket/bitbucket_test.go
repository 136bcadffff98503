package bitbucket_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/bitbucket"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/event"
)

var kit = connectortest.Kit{
	Name:   bitbucket.Name,
	New:    bitbucket.New,
	Source: "acme-bitbucket",
	Secret: []byte("It's a Secret to Everybody"),
}

func TestGolden(t *testing.T) { kit.Golden(t) }

func TestKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"repo_push.branch":                      event.KindCodePushed,
		"repo_push.branch-created":              event.KindBranchCreated,
		"repo_push.branch-deleted":              event.KindBranchDeleted,
		"repo_push.tag":                         event.KindTagCreated,
		"repo_push.branch-and-tag":              event.KindCodePushed + "," + event.KindTagCreated,
		"pullrequest_created":                   event.KindChangeCreated,
		"pullrequest_updated":                   event.KindChangeUpdated,
		"pullrequest_fulfilled":                 event.KindChangeMerged,
		"pullrequest_rejected":                  event.KindChangeAbandoned,
		"repo_commit_status_created.inprogress": event.KindBuildStarted,
		"repo_commit_status_updated.successful": event.KindBuildFinished,
		"repo_commit_status_updated.stopped":    event.KindBuildFinished,
		"repo_commit_status_updated.failed":     event.KindBuildFinished,
	})
}

func TestRefusals(t *testing.T) {
	sign := func(secret string) func(*connectors.Request) {
		return func(req *connectors.Request) {
			bitbucket.New().(connectors.Signer).Sign(req.Header, req.Body, []byte(secret))
		}
	}
	set := func(name, value string) func(*connectors.Request) {
		return func(req *connectors.Request) { req.Header.Set(name, value) }
	}
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong secret", Fixture: "repo_push.branch", Change: sign("not the secret"), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "missing signature", Fixture: "repo_push.branch", Change: func(req *connectors.Request) { req.Header.Del(bitbucket.HeaderSignature) }, Want: connectors.ErrUnauthorized, Says: "give the webhook a secret in Bitbucket"},
		{Name: "empty signature", Fixture: "repo_push.branch", Change: set(bitbucket.HeaderSignature, ""), Want: connectors.ErrUnauthorized, Says: "missing or empty"},
		{Name: "empty digest", Fixture: "repo_push.branch", Change: set(bitbucket.HeaderSignature, "sha256="), Want: connectors.ErrUnauthorized, Says: "missing or empty"},
		{Name: "sha1 prefix", Fixture: "repo_push.branch", Change: set(bitbucket.HeaderSignature, "sha1=0123456789abcdef0123456789abcdef01234567"), Want: connectors.ErrUnauthorized, Says: `must start with "sha256="`},
		{Name: "not hex", Fixture: "repo_push.branch", Change: set(bitbucket.HeaderSignature, "sha256=zz"), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "tampered body", Fixture: "pullrequest_fulfilled", Change: func(req *connectors.Request) {
			req.Body = []byte(strings.Replace(string(req.Body), `"id": 42`, `"id": 43`, 1))
		}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "empty secret never verifies", Fixture: "repo_push.branch", Change: sign(""), Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "secret no longer configured", Fixture: "repo_push.branch", Secrets: [][]byte{[]byte("new"), []byte("newer")}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "delivery id with a slash", Fixture: "repo_push.branch", Change: set(bitbucket.HeaderDelivery, "a/b"), Want: connectors.ErrMalformed, Says: "X-Request-UUID header may hold only"},
		{Name: "delivery id too long", Fixture: "repo_push.branch", Change: set(bitbucket.HeaderDelivery, strings.Repeat("a", 129)), Want: connectors.ErrMalformed, Says: "longer than 128"},
		{Name: "event key missing", Fixture: "repo_push.branch", Change: set(bitbucket.HeaderEvent, ""), Want: connectors.ErrMalformed, Says: "X-Event-Key header is missing"},
		{Name: "event key with a path", Fixture: "repo_push.branch", Change: set(bitbucket.HeaderEvent, "repo:../push"), Want: connectors.ErrMalformed, Says: "may hold only"},
		{Name: "xml", Fixture: "repo_push.branch", Change: set("Content-Type", "application/xml"), Want: connectors.ErrUnsupportedMediaType, Says: `"application/xml"`},
	})
}

// TestVerifyRotation: during a rotation, a delivery signed with either
// secret verifies.
func TestVerifyRotation(t *testing.T) {
	t.Parallel()
	body := []byte(`{"push":{"changes":[]}}`)
	for _, secret := range []string{"old", "new"} {
		h := http.Header{}
		bitbucket.New().(connectors.Signer).Sign(h, body, []byte(secret))
		req := &connectors.Request{Header: h, Body: body}
		if err := bitbucket.New().Verify(context.Background(), req, [][]byte{[]byte("old"), []byte("new")}); err != nil {
			t.Errorf("signed with %q: Verify = %v", secret, err)
		}
	}
}

// TestVerifyVector checks Sign and Verify against an HMAC-SHA256 computed
// independently: printf 'Hello, World!' | openssl dgst -sha256 -hmac
// "It's a Secret to Everybody".
func TestVerifyVector(t *testing.T) {
	t.Parallel()
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	h := http.Header{}
	bitbucket.New().(connectors.Signer).Sign(h, []byte("Hello, World!"), kit.Secret)
	if got := h.Get(bitbucket.HeaderSignature); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	h.Set(bitbucket.HeaderSignature, "sha256="+strings.ToUpper(strings.TrimPrefix(want, "sha256=")))
	if err := bitbucket.New().Verify(context.Background(), &connectors.Request{Header: h, Body: []byte("Hello, World!")}, [][]byte{kit.Secret}); err != nil {
		t.Fatalf("Verify of upper-case hex: %v", err)
	}
}

// parse parses body as a delivery of typ with a fixed id.
func parse(t *testing.T, typ, body string) *event.Event {
	t.Helper()
	h, _ := bitbucket.New().(connectors.Simulator).Delivery(typ, "d1", nil)
	res, err := bitbucket.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res.Event
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	repo := `"repository":{"full_name":"acme/widget","links":{"html":{"href":"https://bitbucket.org/acme/widget"}}}`
	base := event.Event{ID: "d1", Source: "s", Connector: bitbucket.Name, ReceivedAt: connectortest.ReceivedAt,
		Repository: &event.Repository{Name: "acme/widget", URL: "https://bitbucket.org/acme/widget"}}
	with := func(typ string, f func(*event.Event)) *event.Event {
		ev := base
		ev.Type = typ
		f(&ev)
		return &ev
	}
	tests := []struct {
		name, typ, body string
		want            *event.Event
	}{
		{
			name: "tag deleted", typ: "repo:push",
			body: `{` + repo + `,"actor":{"nickname":"emmalopez"},"push":{"changes":[{"old":{"type":"tag","name":"v1","target":{"hash":"aa"}},"new":null}]}}`,
			want: with("repo:push", func(ev *event.Event) {
				ev.Kind, ev.Ref, ev.Tag, ev.Before, ev.Actor = event.KindTagDeleted, "refs/tags/v1", "v1", "aa", "emmalopez"
			}),
		},
		{
			name: "push without changes", typ: "repo:push",
			body: `{` + repo + `,"push":{"changes":[]}}`,
			want: with("repo:push", func(ev *event.Event) { ev.Kind = event.KindOther }),
		},
		{
			name: "pull request approved", typ: "pullrequest:approved",
			body: `{` + repo + `,"pullrequest":{"id":7,"state":"OPEN","source":{"branch":{"name":"fix"},"commit":{"hash":"abc123def456"}},"destination":{"branch":{"name":"main"}}}}`,
			want: with("pullrequest:approved", func(ev *event.Event) {
				// An abbreviated commit id is not a Commit.
				ev.Kind, ev.Ref, ev.Branch = event.KindOther, "refs/heads/fix", "fix"
				ev.Change = &event.Change{Number: 7, SourceBranch: "fix", TargetBranch: "main"}
			}),
		},
		{
			name: "pull request with a full commit id", typ: "pullrequest:updated",
			body: `{` + repo + `,"pullrequest":{"id":7,"state":"OPEN","source":{"branch":{"name":"fix"},"commit":{"hash":"3c6f9b2e5a8d1c4f7b0e3a6d9c2f5b8e1a4d7c0f"}},"destination":{"branch":{"name":"main"}}}}`,
			want: with("pullrequest:updated", func(ev *event.Event) {
				ev.Kind, ev.Ref, ev.Branch, ev.Commit = event.KindChangeUpdated, "refs/heads/fix", "fix", "3c6f9b2e5a8d1c4f7b0e3a6d9c2f5b8e1a4d7c0f"
				ev.Change = &event.Change{Number: 7, SourceBranch: "fix", TargetBranch: "main"}
			}),
		},
		{
			name: "merged with an abbreviated merge commit", typ: "pullrequest:fulfilled",
			body: `{` + repo + `,"pullrequest":{"id":7,"state":"MERGED","source":{"branch":{"name":"fix"},"commit":{"hash":"3c6f9b2e5a8d1c4f7b0e3a6d9c2f5b8e1a4d7c0f"}},"destination":{"branch":{"name":"main"}},"merge_commit":{"hash":"e8f2a4c6b0d1"}}}`,
			want: with("pullrequest:fulfilled", func(ev *event.Event) {
				ev.Kind, ev.Ref, ev.Branch = event.KindChangeMerged, "refs/heads/main", "main"
				ev.Change = &event.Change{Number: 7, SourceBranch: "fix", TargetBranch: "main", Merged: true}
			}),
		},
		{
			name: "pipeline run", typ: "repo:commit_status_updated",
			body: `{` + repo + `,"commit_status":{"key":"k","name":"Pipeline #128 for feature/x","state":"SUCCESSFUL","refname":"feature/x"}}`,
			want: with("repo:commit_status_updated", func(ev *event.Event) {
				ev.Kind, ev.Branch = event.KindBuildFinished, "feature/x"
				ev.Build = &event.Build{ID: "k", Name: "Pipeline", Number: 128, Status: event.BuildFinished, Outcome: event.OutcomeSuccess}
			}),
		},
		{
			name: "commit status with a commit block and a tag", typ: "repo:commit_status_updated",
			body: `{` + repo + `,"commit_status":{"key":"k","state":"STOPPED","refname":"refs/tags/v1","commit":{"hash":"cc"},"links":{"commit":{"href":"https://api.bitbucket.org/2.0/repositories/acme/widget/commit/dd"}},"created_on":"not a time"}}`,
			want: with("repo:commit_status_updated", func(ev *event.Event) {
				ev.Kind, ev.Tag, ev.Commit = event.KindBuildFinished, "v1", "cc"
				ev.Build = &event.Build{ID: "k", Status: event.BuildFinished, Outcome: event.OutcomeCancelled}
			}),
		},
		{
			name: "commit status of an unknown state", typ: "repo:commit_status_created",
			body: `{` + repo + `,"commit_status":{"key":"k","state":"PENDING"}}`,
			want: with("repo:commit_status_created", func(ev *event.Event) {
				ev.Kind, ev.Build = event.KindOther, &event.Build{ID: "k"}
			}),
		},
		{
			name: "actor by nickname", typ: "repo:fork",
			body: `{` + repo + `,"actor":{"display_name":"Emma the Admin","nickname":"emmalopez"}}`,
			want: with("repo:fork", func(ev *event.Event) { ev.Kind, ev.Actor = event.KindUnnormalized, "emmalopez" }),
		},
		{
			name: "unknown type", typ: "issue:created",
			body: `{` + repo + `,"actor":{"display_name":"Emma Lopez"},"issue":7}`,
			want: with("issue:created", func(ev *event.Event) { ev.Kind, ev.Actor = event.KindUnnormalized, "Emma Lopez" }),
		},
		{
			name: "unknown type with odd fields", typ: "repo:fork",
			body: `{"repository":"x","actor":[1]}`,
			want: with("repo:fork", func(ev *event.Event) { ev.Kind, ev.Repository = event.KindUnnormalized, nil }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, parse(t, tt.typ, tt.body)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestContentHashID: without X-Request-UUID, the id is the body's hash.
func TestContentHashID(t *testing.T) {
	t.Parallel()
	h, body := bitbucket.New().(connectors.Simulator).Delivery("repo:push", "", []byte(`{"push":{"changes":[]}}`))
	h.Del(bitbucket.HeaderDelivery)
	res, err := bitbucket.New().Parse(&connectors.Request{Header: h, Body: body})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if res.Event.ID != connectors.ContentHash(body) || res.Event.IDFrom != connectors.IDFromContentHash {
		t.Errorf("ID, IDFrom = %q, %q; want the content hash", res.Event.ID, res.Event.IDFrom)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, typ, body, ct string
		want                error
		says                string
	}{
		{name: "truncated push", typ: "repo:push", body: `{"push":`, want: connectors.ErrMalformed, says: "repo:push payload"},
		{name: "wrong shape", typ: "pullrequest:created", body: `{"pullrequest":{"id":"x"}}`, want: connectors.ErrMalformed, says: "pullrequest:created payload"},
		{name: "array for unknown type", typ: "issue:created", body: `[1]`, want: connectors.ErrMalformed, says: "issue:created payload"},
		{name: "no content type", typ: "repo:push", body: `{}`, ct: "-", want: connectors.ErrUnsupportedMediaType, says: "Content-Type header is missing"},
		{name: "capital event key", typ: "Repo:push", body: `{}`, want: connectors.ErrMalformed, says: "may hold only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, body := bitbucket.New().(connectors.Simulator).Delivery(tt.typ, "d1", []byte(tt.body))
			if tt.ct == "-" {
				h.Del("Content-Type")
			}
			_, err := bitbucket.New().Parse(&connectors.Request{Header: h, Body: body})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Parse = %v, want %v saying %q", err, tt.want, tt.says)
			}
		})
	}
}

func TestSimulator(t *testing.T) {
	t.Parallel()
	sim := bitbucket.New().(connectors.Simulator)
	h, body := sim.Delivery("repo:push", "6f4d2b0e-8c1a-4e3f-a5b7-c9d1e3f5a7b2", []byte(`{}`))
	if string(body) != `{}` {
		t.Errorf("Delivery changed the payload: %s", body)
	}
	if got := sim.EventType(h, body); got != "repo:push" {
		t.Errorf("EventType = %q, want repo:push", got)
	}
	if got := h.Get("User-Agent"); got != "Bitbucket-Webhooks/2.0" {
		t.Errorf("User-Agent = %q", got)
	}
}

// TestSimulatedDeliveries: every fixture, sent again as the simulator
// sends it and signed, verifies and normalizes to its recorded event.
func TestSimulatedDeliveries(t *testing.T) {
	t.Parallel()
	c := bitbucket.New()
	sim := c.(connectors.Simulator)
	for _, f := range kit.Fixtures(t) {
		want, err := c.Parse(kit.Request(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		h, body := sim.Delivery(sim.EventType(f.Header, f.Body), f.Header.Get(bitbucket.HeaderDelivery), f.Body)
		sim.Sign(h, body, kit.Secret)
		req := &connectors.Request{Source: kit.Source, Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}
		if err := c.Verify(context.Background(), req, [][]byte{kit.Secret}); err != nil {
			t.Fatalf("%s: Verify: %v", f.Name, err)
		}
		got, err := c.Parse(req)
		if err != nil {
			t.Fatalf("%s: Parse: %v", f.Name, err)
		}
		if diff := cmp.Diff(events(want), events(got)); diff != "" {
			t.Errorf("%s: simulated delivery normalizes differently (-recorded +simulated):\n%s", f.Name, diff)
		}
	}
}

// events returns a result's events: its event, or its batch's.
func events(res *connectors.Result) []*event.Event {
	if res.Batch == nil {
		return []*event.Event{res.Event}
	}
	out := make([]*event.Event, len(res.Batch))
	for i, r := range res.Batch {
		out[i] = r.Event
	}
	return out
}

// TestRunName: the run part of a commit status's name is cut off and
// its number kept; other names are kept whole.
func TestRunName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, want string
		number     int
	}{
		{"Pipeline #128 for main", "Pipeline", 128},
		{"Pipeline #7 for release/v1 2", "Pipeline", 7},
		{"Pipeline #12", "Pipeline", 12},
		{"Deploy to prod #3 for v1.4.0", "Deploy to prod", 3},
		{"Jenkins build", "Jenkins build", 0},
		{"Pipeline #x for main", "Pipeline #x for main", 0},
		{"Pipeline #-1 for main", "Pipeline #-1 for main", 0},
		{"Pipeline #+1 for main", "Pipeline #+1 for main", 0},
		{"Pipeline #99999999999999999999 for main", "Pipeline #99999999999999999999 for main", 0},
		{"Pipeline #4 of 5", "Pipeline #4 of 5", 0},
		{"Pipeline #5 for fix #12", "Pipeline", 5},
		{"Build #2 pipeline #5 for main", "Build #2 pipeline", 5},
		{"Pipeline #5 for", "Pipeline #5 for", 0},
		{"Pipeline #5 ", "Pipeline #5 ", 0},
		{"Pipeline #5 for ", "Pipeline #5 for ", 0},
		{"#128 for main", "#128 for main", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		body := `{"commit_status":{"key":"k","name":` + strconv.Quote(tt.name) + `,"state":"INPROGRESS"}}`
		b := parse(t, "repo:commit_status_created", body).Build
		if b.Name != tt.want || b.Number != tt.number {
			t.Errorf("%q: name %q, number %d; want %q, %d", tt.name, b.Name, b.Number, tt.want, tt.number)
		}
	}
}

// change returns a push change of branch from old to new (either empty).
func change(branch, old, new string) string {
	side := func(sha string) string {
		if sha == "" {
			return "null"
		}
		return `{"type":"branch","name":"` + branch + `","target":{"hash":"` + sha + `"}}`
	}
	return `{"old":` + side(old) + `,"new":` + side(new) + `}`
}

// TestPushBatch: a push of several refs is one event per ref, each with
// its own id and the whole payload; a push of one is the delivery's
// event.
func TestPushBatch(t *testing.T) {
	t.Parallel()
	const a, b = "6d8a2c1f4b7e9a03c5d2e8f1b4a7c9e0d3f6a2b5", "b1e4d7a0c3f6e9b2d5a8c1f4e7b0a3d6c9f2e5a8"
	sim := bitbucket.New().(connectors.Simulator)
	push := func(id string, changes ...string) (*connectors.Result, []byte, error) {
		h, body := sim.Delivery("repo:push", id, []byte(`{"actor":{"nickname":"emmalopez"},"push":{"changes":[`+strings.Join(changes, ",")+`]}}`))
		res, err := bitbucket.New().Parse(&connectors.Request{Source: "s", Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt})
		return res, body, err
	}

	res, body, err := push("d1", change("feature", a, b), change("main", "", b))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if res.Event != nil || res.Payload != nil || len(res.Batch) != 2 {
		t.Fatalf("a push of two refs: event %v, %d payload bytes, batch of %d; want a batch of 2", res.Event, len(res.Payload), len(res.Batch))
	}
	for i, want := range []struct {
		id, branch string
		kind       event.Kind
	}{{"d1.1", "feature", event.KindCodePushed}, {"d1.2", "main", event.KindBranchCreated}} {
		r := res.Batch[i]
		if r.Event.ID != want.id || r.Event.Branch != want.branch || r.Event.Kind != want.kind || r.Event.Commit != b || r.Event.Actor != "emmalopez" {
			t.Errorf("batch[%d] = %+v; want id %s, branch %s, kind %s", i, r.Event, want.id, want.branch, want.kind)
		}
		if string(r.Payload) != string(body) {
			t.Errorf("batch[%d] carries %s, want the whole payload", i, r.Payload)
		}
	}

	res, _, err = push("d1", change("main", a, b))
	if err != nil || res.Batch != nil || res.Event.ID != "d1" || res.Event.Branch != "main" {
		t.Fatalf("a push of one ref: %+v, %v; want the event d1", res, err)
	}

	many := make([]string, connectors.MaxBatch+1)
	for i := range many {
		many[i] = change("b"+strconv.Itoa(i), a, b)
	}
	if res, _, err := push("d1", many[:connectors.MaxBatch]...); err != nil || len(res.Batch) != connectors.MaxBatch || res.Batch[connectors.MaxBatch-1].Event.ID != "d1.100" {
		t.Fatalf("a push of %d refs: %v; want a batch of as many", connectors.MaxBatch, err)
	}
	if _, _, err := push("d1", many...); !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "at most 100") {
		t.Fatalf("a push of %d refs: Parse = %v, want ErrMalformed naming the limit", len(many), err)
	}
	if _, _, err := push(strings.Repeat("a", connectors.MaxDeliveryID), change("a", a, b), change("b", a, b)); !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "longer than 128") {
		t.Fatalf("a push of two refs with the longest delivery id: Parse = %v, want ErrMalformed", err)
	}
}
