package sources_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/sources"
	"github.com/reflexops/reflex/state"
)

// TestCheck: a source's connector must exist and its settings must suit
// it; the error names the field and wraps state.ErrInvalid.
func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		content map[string]any
		says    string
	}{
		{"github, no settings", map[string]any{"name": "a", "connector": "github"}, ""},
		{"gitlab, valid settings", map[string]any{"name": "a", "connector": "gitlab", "settings": map[string]any{"tolerance": "2m"}}, ""},
		{"unknown connector", map[string]any{"name": "a", "connector": "gitlub"}, "field connector: unknown connector"},
		{"settings of no connector", map[string]any{"name": "a", "connector": "github", "settings": map[string]any{"x": 1}}, "field settings: the github connector takes no settings"},
		{"schema refusal", map[string]any{"name": "a", "connector": "gitlab", "settings": map[string]any{"tolerance": 5}}, "field settings.tolerance: "},
		{"Configure refusal", map[string]any{"name": "a", "connector": "standard-webhooks", "settings": map[string]any{"public_keys": []any{"whpk_AAAA"}}}, "field settings.public_keys"},
		{"not a source", map[string]any{"name": "a", "anything": true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := state.TypeSource
			if tt.name == "not a source" {
				typ = state.TypePipeline
			}
			err := sources.Check(state.NewObject(typ, tt.content))
			if tt.says == "" {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				return
			}
			if !errors.Is(err, state.ErrInvalid) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Check = %v, want ErrInvalid saying %q", err, tt.says)
			}
		})
	}
}

// TestKeysStandInForSecrets: a source whose connector verifies with
// public keys of its settings serves without a shared secret; any other
// source without a secret does not.
func TestKeysStandInForSecrets(t *testing.T) {
	ctx := context.Background()
	store := state.New(redistest.New(t).Client, state.Options{})
	pub, _, _ := ed25519.GenerateKey(nil)
	for _, content := range []map[string]any{
		{"name": "keyed", "connector": "standard-webhooks", "settings": map[string]any{"public_keys": []any{schemes.PublicKeyString(pub)}}},
		{"name": "bare", "connector": "github"},
	} {
		if _, err := store.Create(ctx, state.NewObject(state.TypeSource, content), "test"); err != nil {
			t.Fatal(err)
		}
	}
	set := sources.NewSet(store, slog.New(slog.DiscardHandler), nil, sources.SecretRefs{})
	if err := set.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if src, err := set.Lookup("keyed"); err != nil || src.Connector.Name() != "standard-webhooks" {
		t.Errorf("keyed: %v, %v; want a source that serves", src, err)
	}
	if _, err := set.Lookup("bare"); err == nil || !strings.Contains(err.Error(), "no secret") {
		t.Errorf("bare: %v, want a refusal for want of a secret", err)
	}
}

// TestReloadKeepsConnectors: a reload that finds a source's connector and
// settings unchanged keeps its connector (and what it has fetched and
// cached); one whose settings changed gets a new one; secrets and the
// confirmation password are resolved anew either way.
func TestReloadKeepsConnectors(t *testing.T) {
	ctx := context.Background()
	store := state.New(redistest.New(t).Client, state.Options{})
	t.Setenv("REFLEX_TEST_HUB_TOKEN", "tok-1")
	content := map[string]any{"name": "hub", "connector": "dockerhub", "secrets": []any{"env:REFLEX_TEST_HUB_TOKEN"},
		"confirm_password": "env:REFLEX_TEST_HUB_TOKEN", "settings": map[string]any{"confirm": map[string]any{"username": "bot"}}}
	if _, err := store.Create(ctx, state.NewObject(state.TypeSource, content), "test"); err != nil {
		t.Fatal(err)
	}
	set := sources.NewSet(store, slog.New(slog.DiscardHandler), nil, sources.SecretRefs{EnvPrefix: "REFLEX_TEST_"})
	lookup := func() config.Source {
		t.Helper()
		if err := set.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		src, err := set.Lookup("hub")
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	first := lookup()
	t.Setenv("REFLEX_TEST_HUB_TOKEN", "tok-2")
	second := lookup()
	if first.Connector != second.Connector {
		t.Error("an unchanged source got a new connector")
	}
	if string(second.Secrets[0]) != "tok-2" || second.Confirm.Password != "tok-2" {
		t.Errorf("secret %q, confirm password %q: not resolved anew", second.Secrets[0], second.Confirm.Password)
	}
	_, _, err := store.Update(ctx, state.TypeSource, "hub", 0, "test", func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		next.Content["settings"] = map[string]any{"confirm": map[string]any{"username": "robot"}}
		return next, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if third := lookup(); third.Connector == second.Connector {
		t.Error("a source whose settings changed kept its connector")
	}
}

// TestConfirmWithoutWebhookSecrets: a worker that cannot resolve a
// source's webhook secrets (only the intake needs them) still processes
// its events: Confirm asks nothing of a connector that confirms nothing,
// and is an error only when the confirmation password cannot be had.
func TestConfirmWithoutWebhookSecrets(t *testing.T) {
	ctx := context.Background()
	store := state.New(redistest.New(t).Client, state.Options{})
	for _, content := range []map[string]any{
		{"name": "gh", "connector": "github", "secrets": []any{"env:REFLEX_TEST_UNSET_SECRET"}},
		{"name": "hub", "connector": "dockerhub", "secrets": []any{"env:REFLEX_TEST_UNSET_SECRET"},
			"confirm_password": "env:REFLEX_TEST_UNSET_PASSWORD", "settings": map[string]any{"confirm": map[string]any{}}},
	} {
		if _, err := store.Create(ctx, state.NewObject(state.TypeSource, content), "test"); err != nil {
			t.Fatal(err)
		}
	}
	set := sources.NewSet(store, slog.New(slog.DiscardHandler), nil, sources.SecretRefs{EnvPrefix: "REFLEX_TEST_"})
	if err := set.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if conf, err := set.Confirm(ctx, &event.Event{Source: "gh", Kind: event.KindCodePushed}); conf != nil || err != nil {
		t.Errorf("github source: %+v, %v; want nil, nil", conf, err)
	}
	if _, err := set.Confirm(ctx, &event.Event{Source: "hub", Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Repository: "docker.io/a/b", Tag: "1"}}); err == nil || !strings.Contains(err.Error(), "confirm_password") {
		t.Errorf("dockerhub source without its password: %v, want an error naming confirm_password", err)
	}
}
