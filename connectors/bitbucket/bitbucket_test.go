package bitbucket_test

import (
	"context"
	"errors"
	"net/http"
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
		"pullrequest_created":                   event.KindChangeCreated,
		"pullrequest_updated":                   event.KindChangeUpdated,
		"pullrequest_fulfilled":                 event.KindChangeMerged,
		"pullrequest_rejected":                  event.KindChangeAbandoned,
		"repo_commit_status_created.inprogress": event.KindBuildStarted,
		"repo_commit_status_updated.successful": event.KindBuildFinished,
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
				ev.Kind, ev.Ref, ev.Branch, ev.Commit = event.KindOther, "refs/heads/fix", "fix", "abc123def456"
				ev.Change = &event.Change{Number: 7, SourceBranch: "fix", TargetBranch: "main"}
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
		if diff := cmp.Diff(want.Event, got.Event); diff != "" {
			t.Errorf("%s: simulated delivery normalizes differently (-recorded +simulated):\n%s", f.Name, diff)
		}
	}
}
