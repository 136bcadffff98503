package bitbucketserver_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/bitbucketserver"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/event"
)

var kit = connectortest.Kit{
	Name:   bitbucketserver.Name,
	New:    bitbucketserver.New,
	Source: "acme-bitbucket-server",
	Secret: []byte("It's a Secret to Everybody"),
}

func TestGolden(t *testing.T) { kit.Golden(t) }

func TestKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"repo_refs_changed.branch":         event.KindCodePushed,
		"repo_refs_changed.branch-created": event.KindBranchCreated,
		"repo_refs_changed.branch-deleted": event.KindBranchDeleted,
		"repo_refs_changed.tag":            event.KindTagCreated,
		"repo_refs_changed.branches":       event.KindCodePushed + "," + event.KindCodePushed,
		"pr_opened":                        event.KindChangeCreated,
		"pr_from_ref_updated":              event.KindChangeUpdated,
		"pr_merged":                        event.KindChangeMerged,
		"pr_declined":                      event.KindChangeAbandoned,
		"pr_deleted":                       event.KindOther,
		"diagnostics_ping":                 "",
	})
}

func TestRefusals(t *testing.T) {
	sign := func(secret string) func(*connectors.Request) {
		return func(req *connectors.Request) {
			bitbucketserver.New().(connectors.Signer).Sign(req.Header, req.Body, []byte(secret))
		}
	}
	set := func(name, value string) func(*connectors.Request) {
		return func(req *connectors.Request) { req.Header.Set(name, value) }
	}
	unsigned := func(req *connectors.Request) { req.Header.Del(bitbucketserver.HeaderSignature) }
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong secret", Fixture: "repo_refs_changed.branch", Change: sign("not the secret"), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "missing signature", Fixture: "repo_refs_changed.branch", Change: unsigned, Want: connectors.ErrUnauthorized, Says: "give the webhook a secret in Bitbucket"},
		{Name: "unsigned ping", Fixture: "diagnostics_ping", Change: unsigned, Want: connectors.ErrUnauthorized, Says: "X-Hub-Signature header is missing"},
		{Name: "basic authentication only", Fixture: "pr_opened", Change: func(req *connectors.Request) {
			unsigned(req)
			req.Header.Set("Authorization", schemes.BasicAuthorization([]byte("reflex:pass")))
		}, Want: connectors.ErrUnauthorized, Says: "Basic authentication is not accepted"},
		{Name: "empty signature", Fixture: "repo_refs_changed.branch", Change: set(bitbucketserver.HeaderSignature, ""), Want: connectors.ErrUnauthorized, Says: "missing or empty"},
		{Name: "empty digest", Fixture: "repo_refs_changed.branch", Change: set(bitbucketserver.HeaderSignature, "sha256="), Want: connectors.ErrUnauthorized, Says: "missing or empty"},
		{Name: "sha1 prefix", Fixture: "repo_refs_changed.branch", Change: set(bitbucketserver.HeaderSignature, "sha1=0123456789abcdef0123456789abcdef01234567"), Want: connectors.ErrUnauthorized, Says: `must start with "sha256="`},
		{Name: "tampered body", Fixture: "pr_merged", Change: func(req *connectors.Request) {
			req.Body = []byte(strings.Replace(string(req.Body), `"id": 17`, `"id": 18`, 1))
		}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "empty secret never verifies", Fixture: "repo_refs_changed.branch", Change: sign(""), Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "secret no longer configured", Fixture: "repo_refs_changed.branch", Secrets: [][]byte{[]byte("new"), []byte("newer")}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "delivery id with a slash", Fixture: "repo_refs_changed.branch", Change: set(bitbucketserver.HeaderDelivery, "a/b"), Want: connectors.ErrMalformed, Says: "X-Request-Id header may hold only"},
		{Name: "delivery id too long", Fixture: "pr_opened", Change: set(bitbucketserver.HeaderDelivery, strings.Repeat("a", 129)), Want: connectors.ErrMalformed, Says: "longer than 128"},
		{Name: "event key missing", Fixture: "repo_refs_changed.branch", Change: set(bitbucketserver.HeaderEvent, ""), Want: connectors.ErrMalformed, Says: "X-Event-Key header is missing"},
		{Name: "event key with a path", Fixture: "repo_refs_changed.branch", Change: set(bitbucketserver.HeaderEvent, "pr:../../x"), Want: connectors.ErrMalformed, Says: "may hold only"},
		{Name: "form-encoded", Fixture: "repo_refs_changed.branch", Change: set("Content-Type", "application/x-www-form-urlencoded"), Want: connectors.ErrUnsupportedMediaType, Says: `"application/x-www-form-urlencoded"`},
	})
}

// TestVerifyRotation: during a rotation, a delivery signed with either
// secret verifies.
func TestVerifyRotation(t *testing.T) {
	t.Parallel()
	body := []byte(`{"eventKey":"repo:refs_changed","changes":[]}`)
	for _, secret := range []string{"old", "new"} {
		h := http.Header{}
		bitbucketserver.New().(connectors.Signer).Sign(h, body, []byte(secret))
		req := &connectors.Request{Header: h, Body: body}
		if err := bitbucketserver.New().Verify(context.Background(), req, [][]byte{[]byte("old"), []byte("new")}); err != nil {
			t.Errorf("signed with %q: Verify = %v", secret, err)
		}
	}
}

// TestSignVector checks Sign against an HMAC-SHA256 computed
// independently: printf 'Hello, World!' | openssl dgst -sha256 -hmac
// "It's a Secret to Everybody".
func TestSignVector(t *testing.T) {
	t.Parallel()
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	h := http.Header{}
	bitbucketserver.New().(connectors.Signer).Sign(h, []byte("Hello, World!"), kit.Secret)
	if got := h.Get(bitbucketserver.HeaderSignature); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

// parse parses body as a delivery of typ with a fixed id.
func parse(t *testing.T, typ, body string) *connectors.Result {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set(bitbucketserver.HeaderEvent, typ)
	h.Set(bitbucketserver.HeaderDelivery, "d1")
	res, err := bitbucketserver.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	repo := `{"slug":"widget","project":{"key":"~ELOPEZ"},"links":{"self":[{"href":"https://bitbucket.acme.example/users/elopez/repos/widget/browse"}]}}`
	base := event.Event{ID: "d1", Source: "s", Connector: bitbucketserver.Name, ReceivedAt: connectortest.ReceivedAt,
		Repository: &event.Repository{Name: "~ELOPEZ/widget", URL: "https://bitbucket.acme.example/users/elopez/repos/widget/browse"}}
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
			name: "tag deleted", typ: "repo:refs_changed",
			body: `{"repository":` + repo + `,"actor":{"name":"elopez"},"changes":[{"ref":{"id":"refs/tags/v1","displayId":"v1","type":"TAG"},"fromHash":"aa","toHash":"0000000000000000000000000000000000000000","type":"DELETE"}]}`,
			want: with("repo:refs_changed", func(ev *event.Event) {
				ev.Kind, ev.Ref, ev.Tag, ev.Before, ev.Actor = event.KindTagDeleted, "refs/tags/v1", "v1", "aa", "elopez"
			}),
		},
		{
			name: "tag moved", typ: "repo:refs_changed",
			body: `{"repository":` + repo + `,"changes":[{"refId":"refs/tags/v1","fromHash":"aa","toHash":"bb","type":"UPDATE"}]}`,
			want: with("repo:refs_changed", func(ev *event.Event) {
				ev.Kind, ev.Ref, ev.Tag, ev.Before, ev.Commit = event.KindTagCreated, "refs/tags/v1", "v1", "aa", "bb"
			}),
		},
		{
			name: "push without changes", typ: "repo:refs_changed",
			body: `{"repository":` + repo + `,"changes":[]}`,
			want: with("repo:refs_changed", func(ev *event.Event) { ev.Kind = event.KindOther }),
		},
		{
			name: "merged without a merge commit", typ: "pr:merged",
			body: `{"pullRequest":{"id":3,"state":"MERGED","fromRef":{"id":"refs/heads/fix","latestCommit":"aa"},"toRef":{"id":"refs/heads/main","repository":` + repo + `}}}`,
			want: with("pr:merged", func(ev *event.Event) {
				ev.Kind, ev.Ref, ev.Branch = event.KindChangeMerged, "refs/heads/main", "main"
				ev.Change = &event.Change{Number: 3, SourceBranch: "fix", TargetBranch: "main", Merged: true}
			}),
		},
		{
			name: "reviewer approved", typ: "pr:reviewer:approved",
			body: `{"actor":{"slug":"nkim"},"pullRequest":{"id":3,"state":"OPEN","fromRef":{"displayId":"fix","latestCommit":"aa"},"toRef":{"displayId":"main","repository":` + repo + `}}}`,
			want: with("pr:reviewer:approved", func(ev *event.Event) {
				ev.Kind, ev.Ref, ev.Branch, ev.Commit, ev.Actor = event.KindOther, "refs/heads/fix", "fix", "aa", "nkim"
				ev.Change = &event.Change{Number: 3, SourceBranch: "fix", TargetBranch: "main"}
			}),
		},
		{
			name: "unknown type", typ: "repo:forked",
			body: `{"repository":` + repo + `,"actor":{"name":"elopez","displayName":"Emma Lopez"}}`,
			want: with("repo:forked", func(ev *event.Event) { ev.Kind, ev.Actor = event.KindUnnormalized, "elopez" }),
		},
		{
			name: "unknown type with odd fields", typ: "mirror:repo_synchronized",
			body: `{"repository":"x","actor":[1]}`,
			want: with("mirror:repo_synchronized", func(ev *event.Event) { ev.Kind, ev.Repository = event.KindUnnormalized, nil }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, parse(t, tt.typ, tt.body).Event); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestPing: the Test connection request is a ping whatever its body.
func TestPing(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"test": true}`, ``} {
		if res := parse(t, "diagnostics:ping", body); !res.Ping || res.Event != nil {
			t.Errorf("body %q: Parse = %+v, want a ping", body, res)
		}
	}
}

// TestContentHashID: without X-Request-Id, the id is the body's hash.
func TestContentHashID(t *testing.T) {
	t.Parallel()
	body := []byte(`{"eventKey":"repo:refs_changed","changes":[]}`)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(bitbucketserver.HeaderEvent, "repo:refs_changed")
	res, err := bitbucketserver.New().Parse(&connectors.Request{Header: h, Body: body})
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
		{name: "truncated push", typ: "repo:refs_changed", body: `{"changes":`, ct: "application/json", want: connectors.ErrMalformed, says: "repo:refs_changed payload"},
		{name: "wrong shape", typ: "pr:opened", body: `{"pullRequest":{"id":"x"}}`, ct: "application/json", want: connectors.ErrMalformed, says: "pr:opened payload"},
		{name: "array for unknown type", typ: "repo:forked", body: `[1]`, ct: "application/json", want: connectors.ErrMalformed, says: "repo:forked payload"},
		{name: "no content type", typ: "repo:refs_changed", body: `{}`, ct: "", want: connectors.ErrUnsupportedMediaType, says: "Content-Type header is missing"},
		{name: "json with a charset in capitals", typ: "repo:refs_changed", body: `{}`, ct: "Application/JSON; charset=UTF-8", want: nil},
		{name: "text", typ: "repo:refs_changed", body: `{}`, ct: "text/plain; charset=utf-8", want: connectors.ErrUnsupportedMediaType, says: `"text/plain"`},
		{name: "capital event key", typ: "PR:opened", body: `{}`, ct: "application/json", want: connectors.ErrMalformed, says: "may hold only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			h.Set("Content-Type", tt.ct)
			h.Set(bitbucketserver.HeaderEvent, tt.typ)
			_, err := bitbucketserver.New().Parse(&connectors.Request{Header: h, Body: []byte(tt.body)})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Parse = %v, want %v saying %q", err, tt.want, tt.says)
			}
		})
	}
}

func TestSimulator(t *testing.T) {
	t.Parallel()
	sim := bitbucketserver.New().(connectors.Simulator)
	tests := []struct {
		name, typ, payload, wantBody string
	}{
		{name: "eventKey written", typ: "pr:opened", payload: `{"eventKey":"repo:refs_changed","pullRequest":{"id": 1}}`, wantBody: `{"eventKey":"pr:opened","pullRequest":{"id":1}}`},
		{name: "eventKey added", typ: "pr:opened", payload: `{"pullRequest":{}}`, wantBody: `{"eventKey":"pr:opened","pullRequest":{}}`},
		{name: "same eventKey kept byte for byte", typ: "pr:opened", payload: `{"pullRequest": {}, "eventKey": "pr:opened"}`, wantBody: `{"pullRequest": {}, "eventKey": "pr:opened"}`},
		{name: "not an object", typ: "pr:opened", payload: `[1]`, wantBody: `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, body := sim.Delivery(tt.typ, "b8e2f4a6-1c3d-4e5f-a7b9-c0d2e4f6a8b1", []byte(tt.payload))
			if string(body) != tt.wantBody {
				t.Errorf("body = %s, want %s", body, tt.wantBody)
			}
			if got := sim.EventType(h, body); got != tt.typ {
				t.Errorf("EventType = %q, want %q", got, tt.typ)
			}
		})
	}
	if got := sim.EventType(http.Header{}, []byte(`{"eventKey":"repo:forked"}`)); got != "repo:forked" {
		t.Errorf("EventType from the payload = %q, want repo:forked", got)
	}
}

// TestSimulatedDeliveries: every fixture, sent again as the simulator
// sends it and signed, verifies and normalizes to its recorded event.
func TestSimulatedDeliveries(t *testing.T) {
	t.Parallel()
	c := bitbucketserver.New()
	sim := c.(connectors.Simulator)
	for _, f := range kit.Fixtures(t) {
		want, err := c.Parse(kit.Request(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		h, body := sim.Delivery(sim.EventType(f.Header, f.Body), f.Header.Get(bitbucketserver.HeaderDelivery), f.Body)
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

// TestPushBatch: a push of several refs is one event per ref, each with
// its own id and the whole payload; a push of one is the delivery's
// event.
func TestPushBatch(t *testing.T) {
	t.Parallel()
	const a, b = "5e9b3d1f7a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b", "c2a4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0"
	change := func(ref, typ string) string {
		return `{"ref":{"id":"` + ref + `","type":"BRANCH"},"fromHash":"` + a + `","toHash":"` + b + `","type":"` + typ + `"}`
	}
	push := func(id string, changes ...string) (*connectors.Result, []byte, error) {
		body := []byte(`{"actor":{"name":"elopez"},"changes":[` + strings.Join(changes, ",") + `]}`)
		h := http.Header{}
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set(bitbucketserver.HeaderEvent, "repo:refs_changed")
		h.Set(bitbucketserver.HeaderDelivery, id)
		res, err := bitbucketserver.New().Parse(&connectors.Request{Source: "s", Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt})
		return res, body, err
	}

	res, body, err := push("d1", change("refs/heads/feature", "UPDATE"), change("refs/heads/main", "ADD"))
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
		if r.Event.ID != want.id || r.Event.Branch != want.branch || r.Event.Kind != want.kind || r.Event.Commit != b || r.Event.Actor != "elopez" {
			t.Errorf("batch[%d] = %+v; want id %s, branch %s, kind %s", i, r.Event, want.id, want.branch, want.kind)
		}
		if string(r.Payload) != string(body) {
			t.Errorf("batch[%d] carries %s, want the whole payload", i, r.Payload)
		}
	}

	res, _, err = push("d1", change("refs/heads/main", "UPDATE"))
	if err != nil || res.Batch != nil || res.Event.ID != "d1" || res.Event.Branch != "main" {
		t.Fatalf("a push of one ref: %+v, %v; want the event d1", res, err)
	}

	many := make([]string, connectors.MaxBatch+1)
	for i := range many {
		many[i] = change("refs/heads/b"+strconv.Itoa(i), "UPDATE")
	}
	if res, _, err := push("d1", many[:connectors.MaxBatch]...); err != nil || len(res.Batch) != connectors.MaxBatch || res.Batch[connectors.MaxBatch-1].Event.ID != "d1.100" {
		t.Fatalf("a push of %d refs: %v; want a batch of as many", connectors.MaxBatch, err)
	}
	if _, _, err := push("d1", many...); !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "at most 100") {
		t.Fatalf("a push of %d refs: Parse = %v, want ErrMalformed naming the limit", len(many), err)
	}
	if _, _, err := push(strings.Repeat("a", connectors.MaxDeliveryID), change("refs/heads/a", "UPDATE"), change("refs/heads/b", "UPDATE")); !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "longer than 128") {
		t.Fatalf("a push of two refs with the longest delivery id: Parse = %v, want ErrMalformed", err)
	}
}
