package pathnorm_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/pathnorm"
	"github.com/reflexops/reflex/event"
)

func compile(t *testing.T, c pathnorm.Config) *pathnorm.Spec {
	t.Helper()
	s, err := pathnorm.Compile(c)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

func apply(t *testing.T, s *pathnorm.Spec, payload string) *event.Event {
	t.Helper()
	ev := &event.Event{}
	if err := s.Apply([]byte(payload), ev); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return ev
}

func at(s string) *time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return &t
}

// TestApplyConfigured reads every kind of value, through alternatives,
// indexes, escapes and paths of the wrong shape.
func TestApplyConfigured(t *testing.T) {
	t.Parallel()
	s := compile(t, pathnorm.Config{
		Type: "event.type|type",
		Normalize: map[string]string{
			"repository":         "repo.full_name|repo",
			"branch":             "push.changes[1].new.name",
			"commit":             "push.changes[1].new.target.hash",
			"before":             "push.changes[1].old.target.hash",
			"actor":              "actor.display_name",
			"url":                "links.html.href",
			"action":             "missing|also.missing",
			"build.id":           "run.id",
			"build.number":       "run.number",
			"build.attempt":      "run.attempt",
			"build.outcome":      "run.result",
			"build.started_at":   "run.started",
			"build.updated_at":   "run.updated",
			"change.merged":      "pr.merged",
			"change.number":      "pr.number",
			"release.prerelease": "pr.draft",
		},
		Kinds: map[string]string{"repo:push": "code.pushed"},
	})
	payload := `{
	  "event": {"type": "repo:push"},
	  "repo": {"full_name": "acme/ledger", "uuid": "{1}"},
	  "actor": {"display_name": "Dana \"D\" Smith \u00e9"},
	  "links": {"html": {"href": "https://git.acme.dev/acme/ledger"}},
	  "push": {"changes": [
	    {"new": {"name": "skip-me"}},
	    {"new": {"name": "main", "target": {"hash": "9fceb02d0ae598e95dc970b74767f19372d61af8"}},
	     "old": {"target": {"hash": "0000000000000000000000000000000000000000"}}},
	    {"new": {"name": "also-skipped"}}
	  ]},
	  "run": {"id": 12345678901, "number": "42", "attempt": 1.5, "result": "FAILED", "started": "2026-01-02T03:00:00+01:00", "updated": 1767323000},
	  "pr": {"merged": "true", "number": true, "draft": 1},
	  "also": null,
	  "tail": [1, {"x": "}]"}, "\\\"", -2.5e3, true, false, null]
	}`
	got := apply(t, s, payload)
	want := &event.Event{
		Type:       "repo:push",
		Kind:       event.KindCodePushed,
		Repository: &event.Repository{Name: "acme/ledger"},
		Ref:        "refs/heads/main",
		Branch:     "main",
		Commit:     "9fceb02d0ae598e95dc970b74767f19372d61af8",
		Actor:      `Dana "D" Smith é`,
		URL:        "https://git.acme.dev/acme/ledger",
		Change:     &event.Change{Merged: true},
		Build: &event.Build{
			ID: "12345678901", Number: 42, Status: event.BuildFinished, Outcome: event.OutcomeFailure,
			StartedAt: at("2026-01-02T02:00:00Z"), UpdatedAt: at("2026-01-02T03:03:20Z"),
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestApplyShapes: only scalars are values, the last of duplicate members
// wins as encoding/json decides, and a path through the wrong shape finds
// nothing.
func TestApplyShapes(t *testing.T) {
	t.Parallel()
	s := compile(t, pathnorm.Config{Type: "type", Normalize: map[string]string{
		"repository":          "data.repository.full_name|data.repository",
		"artifact.repository": "data.repository",
		"artifact.tag":        "data.tag",
		"artifact.digest":     "data.digest",
		"tag":                 "data.tag",
	}})
	tests := []struct {
		name, payload string
		want          *event.Event
	}{
		{"object", `{"type":"image.pushed","data":{"repository":{"full_name":"acme/api"}}}`,
			&event.Event{Type: "image.pushed", Kind: event.KindUnnormalized, Repository: &event.Repository{Name: "acme/api"}}},
		{"string", `{"type":"image.pushed","data":{"repository":"ghcr.io/acme/api","digest":"sha256:abc"}}`,
			&event.Event{Type: "image.pushed", Kind: event.KindUnnormalized, Repository: &event.Repository{Name: "ghcr.io/acme/api"},
				Artifact: &event.Artifact{Repository: "ghcr.io/acme/api", Digest: "sha256:abc", Reference: "ghcr.io/acme/api@sha256:abc"}}},
		{"tag reference", `{"type":"t","data":{"repository":"r","tag":"1.0","digest":"sha256:abc"}}`,
			&event.Event{Type: "t", Kind: event.KindUnnormalized, Repository: &event.Repository{Name: "r"}, Tag: "1.0",
				Artifact: &event.Artifact{Repository: "r", Tag: "1.0", Digest: "sha256:abc", Reference: "r:1.0"}}},
		{"duplicates", `{"type":"a","type":"b","data":{"repository":[1],"repository":"x"}}`,
			&event.Event{Type: "b", Kind: event.KindUnnormalized, Repository: &event.Repository{Name: "x"},
				Artifact: &event.Artifact{Repository: "x"}}},
		{"wrong shapes", `{"type":{"name":"x"},"data":[{"repository":"x"}]}`,
			&event.Event{Type: pathnorm.UnknownType, Kind: event.KindUnnormalized}},
		{"null", `{"type":null,"data":null}`, &event.Event{Type: pathnorm.UnknownType, Kind: event.KindUnnormalized}},
		{"not an object", `["type"]`, &event.Event{Type: pathnorm.UnknownType, Kind: event.KindUnnormalized}},
		{"number type", `{"type":42}`, &event.Event{Type: "42", Kind: event.KindUnnormalized}},
		{"escaped member name", `{"t\u0079pe":"escaped"}`, &event.Event{Type: "escaped", Kind: event.KindUnnormalized}},
		{"case matters", `{"Type":"x"}`, &event.Event{Type: pathnorm.UnknownType, Kind: event.KindUnnormalized}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, apply(t, s, tt.payload)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestKinds: settings.kinds first, then a kind the payload names, else
// unnormalized; the ref follows the kind as GitHub's does.
func TestKinds(t *testing.T) {
	t.Parallel()
	s := compile(t, pathnorm.Config{
		Type:      "type",
		Normalize: map[string]string{"kind": "kind", "branch": "branch", "tag": "tag"},
		Kinds:     map[string]string{"deploy.done": "deployment.finished", "tagged": "tag.created", "released": "release.published"},
	})
	tests := []struct {
		payload string
		kind    event.Kind
		ref     string
	}{
		{`{"type":"deploy.done","kind":"build.finished"}`, event.KindDeploymentFinished, ""},
		{`{"type":"x","kind":"build.finished"}`, event.KindBuildFinished, ""},
		{`{"type":"x","kind":"build.done"}`, event.KindUnnormalized, ""},
		{`{"type":"x","kind":"code.pushed","branch":"dev"}`, event.KindCodePushed, "refs/heads/dev"},
		{`{"type":"x","kind":"change.merged","branch":"main"}`, event.KindChangeMerged, "refs/heads/main"},
		{`{"type":"x","kind":"build.finished","branch":"main"}`, event.KindBuildFinished, ""},
		{`{"type":"tagged","tag":"v1"}`, event.KindTagCreated, "refs/tags/v1"},
		{`{"type":"released","tag":"v2"}`, event.KindReleasePublished, "refs/tags/v2"},
		{`{"type":"x"}`, event.KindUnnormalized, ""},
	}
	for _, tt := range tests {
		ev := apply(t, s, tt.payload)
		if ev.Kind != tt.kind || ev.Ref != tt.ref {
			t.Errorf("%s: kind %q ref %q, want %q %q", tt.payload, ev.Kind, ev.Ref, tt.kind, tt.ref)
		}
	}
}

func TestDefaultNormalize(t *testing.T) {
	t.Parallel()
	s := compile(t, pathnorm.Config{Type: "type"})
	got := apply(t, s, `{"type":"push","ref":"refs/tags/v1.2.0","after":"9fceb02d0ae598e95dc970b74767f19372d61af8",
	  "before":"0000000000000000000000000000000000000000","repository":{"full_name":"acme/widget","html_url":"https://git.acme.dev/acme/widget"},
	  "sender":{"login":"dana"},"html_url":"https://git.acme.dev/acme/widget/tags/v1.2.0"}`)
	want := &event.Event{
		Type: "push", Kind: event.KindUnnormalized,
		Repository: &event.Repository{Name: "acme/widget", URL: "https://git.acme.dev/acme/widget"},
		Ref:        "refs/tags/v1.2.0", Tag: "v1.2.0", Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8",
		Actor: "dana", URL: "https://git.acme.dev/acme/widget/tags/v1.2.0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// An empty normalize fills nothing.
	s = compile(t, pathnorm.Config{Type: "type", Normalize: map[string]string{}})
	if diff := cmp.Diff(&event.Event{Type: "push", Kind: event.KindUnnormalized}, apply(t, s, `{"type":"push","ref":"refs/heads/main"}`)); diff != "" {
		t.Errorf("empty normalize (-want +got):\n%s", diff)
	}
}

// TestNoTypePath: without a type path the caller's type stands.
func TestNoTypePath(t *testing.T) {
	t.Parallel()
	s := compile(t, pathnorm.Config{Kinds: map[string]string{"push": "code.pushed"}})
	ev := &event.Event{Type: "push"}
	if err := s.Apply([]byte(`{"type":"other","ref":"refs/heads/main"}`), ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "push" || ev.Kind != event.KindCodePushed || ev.Branch != "main" {
		t.Errorf("got %+v", ev)
	}
	if got := s.Type([]byte(`{"type":"other"}`)); got != "" {
		t.Errorf("Type without a type path = %q", got)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    pathnorm.Config
		want string
	}{
		{"type path", pathnorm.Config{Type: "a..b"}, "event_type: a member name is missing at 2"},
		{"unknown field", pathnorm.Config{Normalize: map[string]string{"sha": "x"}}, "normalize.sha: is not a field (known: kind, action, repository,"},
		{"bad path", pathnorm.Config{Normalize: map[string]string{"commit": "data[x]"}}, "normalize.commit: the index at 4 must be a number"},
		{"bad alternative", pathnorm.Config{Normalize: map[string]string{"commit": "a|b c"}}, `normalize.commit: "b c": ' ' at 1`},
		{"unknown kind", pathnorm.Config{Kinds: map[string]string{"push": "code.push"}}, `kinds.push: "code.push" is not a kind (known: code.pushed,`},
		{"bad type", pathnorm.Config{Kinds: map[string]string{"a/b": "code.pushed"}}, "kinds.a/b: malformed delivery: the event type may hold only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := pathnorm.Compile(tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Compile = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestApplyMalformed(t *testing.T) {
	t.Parallel()
	s := compile(t, pathnorm.Config{Type: "type", Normalize: map[string]string{"commit": "data.sha", "tag": "data.list[3]"}})
	for payload, want := range map[string]string{
		``:                              "ends early",
		`{"type":"a"`:                   "ends early",
		`{"type":"a",}`:                 "want a member name",
		`{"type" "a"}`:                  "want ':'",
		`{"type":"a"} x`:                "after the document",
		`{"type":"a" "b":1}`:            "want ',' or '}'",
		`{"data":{"list":[1,2 3]}}`:     "want ',' or ']'",
		`{"data":{"sha":}}`:             "want a value",
		`{"data":{"sha":nope}}`:         "want a value",
		`{"other":{"x":"unterminated}}`: "ends early",
		`{"other":[1,2,{"a":[}`:         "ends early",
		`{"type":"a/../b"}`:             "the payload's event type may hold only",
		`{"type":"` + strings.Repeat("a", 129) + `"}`: "longer than 128",
	} {
		err := s.Apply([]byte(payload), &event.Event{})
		if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), want) {
			t.Errorf("Apply(%q) = %v, want ErrMalformed containing %q", payload, err, want)
		}
	}
}

func TestWithType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, payload, want string
	}{
		{"type", `{"data":{"id":1}}`, `{"data":{"id":1},"type":"a.b"}`},
		{"type", `{"type": "a.b", "data": {}}`, `{"type": "a.b", "data": {}}`},
		{"type", `{"type":"old","n":1.50}`, `{"n":1.50,"type":"a.b"}`},
		{"meta.event", `{"meta":{"v":2}}`, `{"meta":{"event":"a.b","v":2}}`},
		{"meta.event", `{}`, `{"meta":{"event":"a.b"}}`},
		{"items[0].t", `{"items":[{}]}`, `{"items":[{"t":"a.b"}]}`},
		{"items[1].t", `{"items":[{}]}`, `{"items":[{}]}`},
		{"meta.event", `{"meta":"x"}`, `{"meta":"x"}`},
		{"type", `[1]`, `[1]`},
		{"type", `not json`, `not json`},
	}
	for _, tt := range tests {
		s := compile(t, pathnorm.Config{Type: tt.path})
		if got := string(s.WithType([]byte(tt.payload), "a.b")); got != tt.want {
			t.Errorf("WithType(%s, %s) = %s, want %s", tt.path, tt.payload, got, tt.want)
		}
	}
	if got := string(compile(t, pathnorm.Config{}).WithType([]byte(`{}`), "x")); got != `{}` {
		t.Errorf("WithType without a type path = %s", got)
	}
}
