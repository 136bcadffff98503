package sources_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors/schemes"
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
