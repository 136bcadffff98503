package gitea_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/gitea"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

var kit = connectortest.Kit{
	Name:   gitea.Name,
	New:    gitea.New,
	Source: "acme-gitea",
	Secret: []byte("a-Gitea-webhook-secret"),
}

func TestGolden(t *testing.T) { kit.Golden(t) }

func TestKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"create.tag":                       event.KindTagCreated,
		"create.tag-forgejo":               event.KindTagCreated,
		"delete.branch":                    event.KindBranchDeleted,
		"issues.opened":                    event.KindUnnormalized,
		"package.created":                  event.KindArtifactPublished,
		"pull_request.closed":              event.KindChangeAbandoned,
		"pull_request.closed-merged":       event.KindChangeMerged,
		"pull_request.opened":              event.KindChangeCreated,
		"pull_request.synchronized":        event.KindChangeUpdated,
		"push.branch":                      event.KindCodePushed,
		"push.branch-created":              event.KindBranchCreated,
		"push.branch-deleted":              event.KindBranchDeleted,
		"push.forgejo":                     event.KindCodePushed,
		"push.tag":                         event.KindTagCreated,
		"release.published":                event.KindReleasePublished,
		"status.failure":                   event.KindBuildFinished,
		"status.pending":                   event.KindBuildStarted,
		"status.success":                   event.KindBuildFinished,
		"workflow_job.completed":           event.KindTaskFinished,
		"workflow_run.completed":           event.KindBuildFinished,
		"workflow_run.completed-failure":   event.KindBuildFinished,
		"workflow_run.completed-cancelled": event.KindBuildFinished,
	})
}

// set returns a Change that sets header name to value, empty included.
func set(name, value string) func(*connectors.Request) {
	return func(req *connectors.Request) { req.Header[http.CanonicalHeaderKey(name)] = []string{value} }
}

// unsign removes every signature header Gitea sends.
func unsign(req *connectors.Request) {
	for _, h := range []string{gitea.HeaderSignature, gitea.HeaderForgejoSignature, gitea.HeaderGogsSignature, gitea.HeaderHubSignature256, "X-Hub-Signature"} {
		req.Header.Del(h)
	}
}

func TestRefusals(t *testing.T) {
	unauthorized, malformed := connectors.ErrUnauthorized, connectors.ErrMalformed
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong secret", Fixture: "push.branch", Secrets: [][]byte{[]byte("another secret")}, Want: unauthorized, Says: "X-Gitea-Signature does not match"},
		{Name: "rotation without the signing secret", Fixture: "push.branch", Secrets: [][]byte{[]byte("old"), []byte("new")}, Want: unauthorized, Says: "does not match"},
		{Name: "empty secret never verifies", Fixture: "push.branch", Secrets: [][]byte{{}}, Want: unauthorized, Says: "does not match"},
		{Name: "no secrets", Fixture: "push.branch", Secrets: [][]byte{}, Want: unauthorized, Says: "does not match"},
		{Name: "missing signature", Fixture: "push.branch", Change: unsign, Want: unauthorized, Says: "X-Gitea-Signature header is missing"},
		{Name: "empty Gitea signature", Fixture: "push.branch", Change: set(gitea.HeaderSignature, ""), Want: unauthorized, Says: "the delivery is unsigned (X-Gitea-Signature is empty): give the webhook a secret in Gitea"},
		{Name: "empty Forgejo signature", Fixture: "push.forgejo", Change: set(gitea.HeaderForgejoSignature, ""), Want: unauthorized, Says: "the delivery is unsigned (X-Forgejo-Signature is empty)"},
		{Name: "empty Hub signature alone", Fixture: "push.branch", Change: func(req *connectors.Request) {
			unsign(req)
			set(gitea.HeaderHubSignature256, "sha256=")(req)
		}, Want: unauthorized, Says: "the delivery is unsigned (X-Hub-Signature-256 is empty)"},
		{Name: "Hub signature without prefix", Fixture: "push.branch", Change: func(req *connectors.Request) {
			sig := req.Header.Get(gitea.HeaderSignature)
			unsign(req)
			set(gitea.HeaderHubSignature256, sig)(req)
		}, Want: unauthorized, Says: `X-Hub-Signature-256 must start with "sha256="`},
		{Name: "bad Forgejo signature beside a good Gitea one", Fixture: "push.forgejo", Change: set(gitea.HeaderForgejoSignature, strings.Repeat("0", 64)), Want: unauthorized, Says: "X-Forgejo-Signature does not match"},
		{Name: "signature not hex", Fixture: "push.branch", Change: set(gitea.HeaderSignature, "zz"), Want: unauthorized, Says: "does not match"},
		{Name: "tampered body", Fixture: "push.branch", Change: func(req *connectors.Request) {
			req.Body = bytes.Replace(req.Body, []byte("refs/heads/main"), []byte("refs/heads/prod"), 1)
		}, Want: unauthorized, Says: "does not match"},
		{Name: "bad delivery id", Fixture: "push.branch", Change: set(gitea.HeaderDelivery, "../../x"), Want: malformed, Says: "X-Gitea-Delivery header may hold only"},
		{Name: "bad Forgejo delivery id", Fixture: "push.forgejo", Change: set(gitea.HeaderForgejoDelivery, "a b"), Want: malformed, Says: "X-Forgejo-Delivery header may hold only"},
		{Name: "missing delivery id", Fixture: "push.branch", Change: func(req *connectors.Request) {
			req.Header.Del(gitea.HeaderDelivery)
			req.Header.Del(gitea.HeaderGogsDelivery)
		}, Want: malformed, Says: "X-Gitea-Delivery header is missing"},
		{Name: "bad event type", Fixture: "push.branch", Change: set(gitea.HeaderEvent, "Push Hook"), Want: malformed, Says: "X-Gitea-Event header may hold only"},
		{Name: "event type too long", Fixture: "push.forgejo", Change: set(gitea.HeaderForgejoEvent, strings.Repeat("a", 65)), Want: malformed, Says: "X-Forgejo-Event header is longer than 64"},
	})
}

// The computed vector of the bare-hex schemes: secret s3cret, body
// {"ref":"refs/heads/main"}.
const (
	vectorBody = `{"ref":"refs/heads/main"}`
	vectorMAC  = "232a5e067b6a5aa567ed5a1d21a0dffaf6ef0eeecb6bd9bcf43b3d5ef3fc4f43"
)

func TestVerifyComputedVector(t *testing.T) {
	secrets := [][]byte{[]byte("s3cret")}
	tests := []struct {
		name   string
		header string
		value  string
		body   string
		ok     bool
	}{
		{name: "X-Gitea-Signature", header: gitea.HeaderSignature, value: vectorMAC, body: vectorBody, ok: true},
		{name: "X-Forgejo-Signature", header: gitea.HeaderForgejoSignature, value: vectorMAC, body: vectorBody, ok: true},
		{name: "X-Gogs-Signature", header: gitea.HeaderGogsSignature, value: vectorMAC, body: vectorBody, ok: true},
		{name: "X-Hub-Signature-256", header: gitea.HeaderHubSignature256, value: "sha256=" + vectorMAC, body: vectorBody, ok: true},
		{name: "upper-case hex", header: gitea.HeaderSignature, value: strings.ToUpper(vectorMAC), body: vectorBody, ok: true},
		{name: "changed body", header: gitea.HeaderSignature, value: vectorMAC, body: `{"ref":"refs/heads/mainx"}`},
		{name: "changed MAC", header: gitea.HeaderSignature, value: vectorMAC[:63] + "0", body: vectorBody},
		{name: "truncated MAC", header: gitea.HeaderSignature, value: vectorMAC[:62], body: vectorBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(tt.header, tt.value)
			err := gitea.New().Verify(context.Background(), &connectors.Request{Header: h, Body: []byte(tt.body)}, secrets)
			if tt.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.ok && !errors.Is(err, connectors.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ErrUnauthorized", err)
			}
		})
	}
	h := http.Header{}
	gitea.New().(connectors.Signer).Sign(h, []byte(vectorBody), []byte("s3cret"))
	if got := h.Get(gitea.HeaderSignature); got != vectorMAC {
		t.Errorf("Sign: X-Gitea-Signature = %s, want %s", got, vectorMAC)
	}
	if got := h.Get(gitea.HeaderHubSignature256); got != "sha256="+vectorMAC {
		t.Errorf("Sign: X-Hub-Signature-256 = %s, want sha256=%s", got, vectorMAC)
	}
	if h.Get(gitea.HeaderForgejoSignature) != "" {
		t.Error("Sign set X-Forgejo-Signature on headers that are not Forgejo's")
	}
}

func TestVerifyRotation(t *testing.T) {
	f, err := fixtures.Get(gitea.Name, "push.forgejo")
	if err != nil {
		t.Fatal(err)
	}
	h := f.Header.Clone()
	gitea.New().(connectors.Signer).Sign(h, f.Body, []byte("new"))
	if h.Get(gitea.HeaderForgejoSignature) != h.Get(gitea.HeaderSignature) {
		t.Fatal("Sign: Forgejo's headers do not carry X-Forgejo-Signature beside X-Gitea-Signature")
	}
	req := &connectors.Request{Header: h, Body: f.Body}
	if err := gitea.New().Verify(context.Background(), req, [][]byte{[]byte("old"), []byte("new")}); err != nil {
		t.Fatalf("Verify with the second secret of a rotation: %v", err)
	}
}

// TestSimulator: a delivery built and signed by the connector is verified
// and parsed by it, and its type read back.
func TestSimulator(t *testing.T) {
	c := gitea.New()
	sim := c.(connectors.Simulator)
	h, body := sim.Delivery("push", "5b2c9a1e-8f3d-4e6a-9c7b-1d2e3f4a5b6c", []byte(vectorBody))
	sim.Sign(h, body, []byte("s3cret"))
	req := &connectors.Request{Source: "acme-gitea", Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}
	if err := c.Verify(context.Background(), req, [][]byte{[]byte("s3cret")}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	res, err := c.Parse(req)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if res.Event.Type != "push" || res.Event.ID != "5b2c9a1e-8f3d-4e6a-9c7b-1d2e3f4a5b6c" || res.Event.Branch != "main" {
		t.Errorf("event = %+v", res.Event)
	}
	if got := sim.EventType(h, body); got != "push" {
		t.Errorf("EventType = %q, want push", got)
	}
	f, err := fixtures.Get(gitea.Name, "create.tag-forgejo")
	if err != nil {
		t.Fatal(err)
	}
	f.Header.Set(gitea.HeaderEvent, "other")
	if got := sim.EventType(f.Header, f.Body); got != "create" {
		t.Errorf("EventType of Forgejo headers = %q, want X-Forgejo-Event's create", got)
	}
}

func TestParseForm(t *testing.T) {
	f, err := fixtures.Get(gitea.Name, "push.branch")
	if err != nil {
		t.Fatal(err)
	}
	h := f.Header.Clone()
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	body := []byte(url.Values{"payload": {string(f.Body)}}.Encode())
	form, err := gitea.New().Parse(&connectors.Request{Source: kit.Source, Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	asJSON, err := gitea.New().Parse(kit.Request(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(asJSON.Event, form.Event); diff != "" {
		t.Errorf("form-encoded delivery normalizes differently from JSON (-json +form):\n%s", diff)
	}
	if !bytes.Equal(form.Payload, f.Body) {
		t.Error("Payload of a form delivery is not the decoded payload field")
	}
}

// giteaForm returns the push.branch fixture as a form-encoded Gitea
// webhook sends it (services/webhook/deliver.go): the JSON payload in the
// payload field, and the signature headers the HMAC-SHA256 of the JSON
// payload, not of the form body.
func giteaForm(t *testing.T, secret []byte) (*connectors.Request, fixtures.Fixture) {
	t.Helper()
	f, err := fixtures.Get(gitea.Name, "push.branch")
	if err != nil {
		t.Fatal(err)
	}
	sig := hex.EncodeToString(hmacOf(secret, f.Body))
	h := f.Header.Clone()
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set(gitea.HeaderSignature, sig)
	h.Set(gitea.HeaderGogsSignature, sig)
	h.Set(gitea.HeaderHubSignature256, "sha256="+sig)
	body := []byte(url.Values{"payload": {string(f.Body)}}.Encode())
	return &connectors.Request{Source: kit.Source, Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}, f
}

// TestVerifyForm: a form-encoded delivery verifies by its payload field,
// which is what Gitea signs, and only by it.
func TestVerifyForm(t *testing.T) {
	c := gitea.New()
	req, f := giteaForm(t, kit.Secret)
	if err := c.Verify(context.Background(), req, [][]byte{kit.Secret}); err != nil {
		t.Fatalf("Verify of a form delivery signed as Gitea signs it: %v", err)
	}
	res, err := c.Parse(req)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !bytes.Equal(res.Payload, f.Body) {
		t.Error("the verified payload is not the one parsed")
	}
	for _, tc := range []struct {
		name   string
		change func(req *connectors.Request)
		want   error
		says   string
	}{
		{"signature of the form body", func(req *connectors.Request) {
			sig := hex.EncodeToString(hmacOf(kit.Secret, req.Body))
			for _, h := range []string{gitea.HeaderSignature, gitea.HeaderGogsSignature} {
				req.Header.Set(h, sig)
			}
		}, connectors.ErrUnauthorized, "X-Gitea-Signature does not match"},
		{"tampered payload", func(req *connectors.Request) {
			req.Body = bytes.Replace(req.Body, []byte("refs%2Fheads%2Fmain"), []byte("refs%2Fheads%2Fprod"), 1)
		}, connectors.ErrUnauthorized, "does not match"},
		{"JSON body under a form content type", func(req *connectors.Request) { req.Body = f.Body }, connectors.ErrMalformed, "form-encoded body"},
		{"form without a payload field", func(req *connectors.Request) { req.Body = []byte("x=1") }, connectors.ErrMalformed, "no payload field"},
		{"wrong secret", func(req *connectors.Request) {
			r, _ := giteaForm(t, []byte("another secret"))
			req.Header = r.Header
		}, connectors.ErrUnauthorized, "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := giteaForm(t, kit.Secret)
			tc.change(req)
			err := c.Verify(context.Background(), req, [][]byte{kit.Secret})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Verify = %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
}

// TestSignForm: Sign signs a form body as Gitea does, its payload field,
// so `reflex send --form` (Delivery, form-encoding, then Sign with the
// final body) produces what Gitea sends.
func TestSignForm(t *testing.T) {
	want, f := giteaForm(t, kit.Secret)
	sim := gitea.New().(connectors.Simulator)
	h, body := sim.Delivery("push", "send-1", f.Body)
	body = []byte(url.Values{"payload": {string(body)}}.Encode())
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	sim.Sign(h, body, kit.Secret)
	for _, name := range []string{gitea.HeaderSignature, gitea.HeaderGogsSignature, gitea.HeaderHubSignature256} {
		if got := h.Get(name); got != want.Header.Get(name) {
			t.Errorf("%s = %q, want Gitea's %q", name, got, want.Header.Get(name))
		}
	}
	req := &connectors.Request{Source: kit.Source, Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}
	c := gitea.New()
	if err := c.Verify(context.Background(), req, [][]byte{kit.Secret}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res, err := c.Parse(req); err != nil || res.Event.ID != "send-1" || res.Event.Kind != event.KindCodePushed {
		t.Fatalf("Parse = %+v, %v", res, err)
	}
	// A JSON body is signed whole, whatever it holds.
	h = http.Header{}
	h.Set("Content-Type", "application/json")
	sim.Sign(h, []byte(vectorBody), []byte("s3cret"))
	if got := h.Get(gitea.HeaderSignature); got != vectorMAC {
		t.Errorf("Sign of a JSON body = %s, want %s", got, vectorMAC)
	}
}

func hmacOf(secret, msg []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write(msg)
	return mac.Sum(nil)
}

func TestParseErrors(t *testing.T) {
	base := http.Header{}
	base.Set("Content-Type", "application/json")
	base.Set(gitea.HeaderEvent, "push")
	base.Set(gitea.HeaderDelivery, "5b2c9a1e-8f3d-4e6a-9c7b-1d2e3f4a5b6c")
	tests := []struct {
		name    string
		set     map[string]string
		body    string
		wantErr error
		wantMsg string
	}{
		{name: "no event header", set: map[string]string{gitea.HeaderEvent: ""}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "X-Gitea-Event header is missing"},
		{name: "delivery id too long", set: map[string]string{gitea.HeaderDelivery: strings.Repeat("a", 129)}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "longer than 128"},
		{name: "event type with a path", set: map[string]string{gitea.HeaderEvent: "../x"}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "X-Gitea-Event header may hold only"},
		{name: "xml", set: map[string]string{"Content-Type": "application/xml"}, body: `<a/>`, wantErr: connectors.ErrUnsupportedMediaType, wantMsg: `"application/xml"; Gitea sends`},
		{name: "unreadable content type", set: map[string]string{"Content-Type": "application/json; x"}, body: `{}`, wantErr: connectors.ErrUnsupportedMediaType, wantMsg: "cannot read Content-Type"},
		{name: "no content type", set: map[string]string{"Content-Type": ""}, body: `{}`, wantErr: connectors.ErrUnsupportedMediaType, wantMsg: "Content-Type header is missing"},
		{name: "truncated json", body: `{"ref": "refs/heads/main"`, wantErr: connectors.ErrMalformed, wantMsg: "push payload is not valid JSON"},
		{name: "wrong shape", body: `{"ref": 42}`, wantErr: connectors.ErrMalformed, wantMsg: "push payload"},
		{name: "json array for unknown type", set: map[string]string{gitea.HeaderEvent: "wiki"}, body: `[1]`, wantErr: connectors.ErrMalformed, wantMsg: "wiki payload"},
		{name: "form without payload", set: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: `x=1`, wantErr: connectors.ErrMalformed, wantMsg: "no payload field"},
		{name: "form not decodable", set: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: `payload=%zz`, wantErr: connectors.ErrMalformed, wantMsg: "cannot be decoded"},
		{name: "package without block", set: map[string]string{gitea.HeaderEvent: "package"}, body: `{"action":"created"}`, wantErr: connectors.ErrMalformed, wantMsg: "no package block"},
		{name: "status of the wrong shape", set: map[string]string{gitea.HeaderEvent: "status"}, body: `{"state":1}`, wantErr: connectors.ErrMalformed, wantMsg: "status payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := base.Clone()
			for k, v := range tt.set {
				if v == "" {
					h.Del(k)
					continue
				}
				h.Set(k, v)
			}
			_, err := gitea.New().Parse(&connectors.Request{Header: h, Body: []byte(tt.body), ReceivedAt: connectortest.ReceivedAt})
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Parse = %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

// TestNormalizeCases covers what the fixtures do not: other actions and
// states, and payload variants.
func TestNormalizeCases(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		body string
		want func(ev *event.Event) string // "" when the event is right
	}{
		{name: "tag deleted by push", typ: "push", body: `{"ref":"refs/tags/v1","before":"` + sha('1') + `","after":"` + sha('0') + `"}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindTagDeleted && ev.Tag == "v1" && ev.Commit == "" && ev.Before == sha('1'), ev)
		}},
		{name: "SHA-256 branch created", typ: "push", body: `{"ref":"refs/heads/x","before":"` + strings.Repeat("0", 64) + `","after":"` + strings.Repeat("a", 64) + `","pusher":{"username":"gogs-era"}}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindBranchCreated && ev.Commit == strings.Repeat("a", 64) && ev.Before == "" && ev.Actor == "gogs-era", ev)
		}},
		{name: "push to a note ref", typ: "push", body: `{"ref":"refs/notes/commits","before":"` + sha('1') + `","after":"` + sha('2') + `"}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindOther && ev.Commit == sha('2'), ev)
		}},
		{name: "delete of a tag with the full ref", typ: "delete", body: `{"ref":"refs/tags/v2","ref_type":"tag"}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindTagDeleted && ev.Tag == "v2" && ev.Ref == "refs/tags/v2", ev)
		}},
		{name: "create of an unknown ref type", typ: "create", body: `{"ref":"x","ref_type":"note"}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindOther && ev.Ref == "", ev)
		}},
		{name: "pull request reopened", typ: "pull_request", body: `{"action":"reopened","pull_request":{"number":3,"head":{"ref":"f","sha":"` + sha('3') + `"},"base":{"ref":"main"}}}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindChangeCreated && ev.Change.Number == 3 && ev.Ref == "refs/heads/f", ev)
		}},
		{name: "pull request labelled", typ: "pull_request", body: `{"action":"label_updated","number":3,"pull_request":{}}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindOther && ev.Action == "label_updated", ev)
		}},
		{name: "release updated", typ: "release", body: `{"action":"updated","release":{"tag_name":"v1","target_commitish":"` + sha('4') + `","prerelease":true}}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindOther && ev.Commit == sha('4') && ev.Branch == "" && ev.Release.Prerelease, ev)
		}},
		{name: "status error", typ: "status", body: `{"state":"error","context":"ci","created_at":"2026-01-02T03:04:00Z"}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindBuildFinished && ev.Build.Outcome == event.OutcomeFailure && ev.Build.UpdatedAt != nil, ev)
		}},
		{name: "status warning", typ: "status", body: `{"state":"warning","context":"lint"}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindBuildFinished && ev.Build.Outcome == event.OutcomeNeutral, ev)
		}},
		{name: "status of an unknown state", typ: "status", body: `{"state":"exploded","context":"ci"}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindOther && ev.Build.Status == "", ev)
		}},
		{name: "run waiting, not started", typ: "workflow_run", body: `{"action":"waiting","workflow_run":{"status":"waiting","path":"deploy.yml@refs/heads/main","started_at":"1970-01-01T00:00:00Z"}}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindBuildQueued && ev.Build.Name == "deploy.yml" && ev.Build.Status == event.BuildQueued && ev.Build.StartedAt == nil, ev)
		}},
		{name: "job in progress", typ: "workflow_job", body: `{"action":"in_progress","workflow_job":{"status":"in_progress","started_at":"0001-01-01T00:00:00Z"}}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindTaskStarted && ev.Build.Status == event.BuildRunning && ev.Build.StartedAt == nil, ev)
		}},
		{name: "container pushed by digest", typ: "package", body: `{"action":"created","package":{"type":"container","name":"Widget","version":"sha256:` + strings.Repeat("b", 64) + `","html_url":"https://git.example.com:8443/Acme/-/packages/container/Widget/sha256:x","owner":{"login":"Acme"}}}`, want: func(ev *event.Event) string {
			a := ev.Artifact
			return expect(a.Repository == "git.example.com:8443/acme/widget" && a.Tag == "" && a.Digest == "sha256:"+strings.Repeat("b", 64) && a.Reference == a.Repository+"@"+a.Digest, ev)
		}},
		{name: "npm package", typ: "package", body: `{"action":"created","package":{"type":"npm","name":"@acme/ui","version":"2.0.1","owner":{"login":"acme"}}}`, want: func(ev *event.Event) string {
			a := ev.Artifact
			return expect(ev.Kind == event.KindArtifactPublished && a.Type == "npm" && a.Repository == "acme/@acme/ui" && a.Version == "2.0.1" && a.Tag == "", ev)
		}},
		{name: "package deleted", typ: "package", body: `{"action":"deleted","package":{"type":"container","name":"w","version":"1"}}`, want: func(ev *event.Event) string {
			return expect(ev.Kind == event.KindOther && ev.Artifact.Repository == "w", ev)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			h.Set(gitea.HeaderEvent, tt.typ)
			h.Set(gitea.HeaderDelivery, "d1")
			res, err := gitea.New().Parse(&connectors.Request{Header: h, Body: []byte(tt.body), ReceivedAt: connectortest.ReceivedAt})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if msg := tt.want(res.Event); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func sha(c byte) string { return strings.Repeat(string(c), 40) }

func expect(ok bool, ev *event.Event) string {
	if ok {
		return ""
	}
	return "unexpected event: " + cmp.Diff(nil, ev)
}

// TestUnknownTypeAccepted: an event type the connector does not normalize
// is accepted with its common fields, whatever the shape of the others.
func TestUnknownTypeAccepted(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(gitea.HeaderEvent, "wiki")
	h.Set(gitea.HeaderDelivery, "d1")
	body := `{"action":"edited","repository":{"full_name":"acme/widget","html_url":"https://gitea.example.com/acme/widget"},"sender":{"login":"alice"},"page":7}`
	res, err := gitea.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &event.Event{
		ID: "d1", Source: "s", Connector: gitea.Name, Type: "wiki", Action: "edited",
		Kind:       event.KindUnnormalized,
		Repository: &event.Repository{Name: "acme/widget", URL: "https://gitea.example.com/acme/widget"},
		Actor:      "alice", ReceivedAt: connectortest.ReceivedAt,
	}
	if diff := cmp.Diff(want, res.Event); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	res, err = gitea.New().Parse(&connectors.Request{Header: h, Body: []byte(`{"repository":"x","sender":1}`)})
	if err != nil || res.Event.Repository != nil || res.Event.Actor != "" {
		t.Fatalf("Parse with odd repository and sender fields = %+v, %v", res, err)
	}
}
