package connectors_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
)

// TestCredentialHeader: a credential header is read when sent once (or
// repeated alike), absent is empty, and sent with different values, under
// any spelling of its name, it is refused as unauthorized.
func TestCredentialHeader(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
		err    bool
	}{
		{"absent", http.Header{}, "", false},
		{"once", http.Header{"X-Signature": {"sha256=ab"}}, "sha256=ab", false},
		{"empty", http.Header{"X-Signature": {""}}, "", false},
		{"twice alike", http.Header{"X-Signature": {"sha256=ab", "sha256=ab"}}, "sha256=ab", false},
		{"twice, genuine first", http.Header{"X-Signature": {"sha256=ab", "sha256=cd"}}, "", true},
		{"twice, genuine last", http.Header{"X-Signature": {"sha256=cd", "sha256=ab"}}, "", true},
		{"genuine beside an empty one", http.Header{"X-Signature": {"sha256=ab", ""}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := connectors.CredentialHeader(tt.header, "x-signature")
			if got != tt.want || (err != nil) != tt.err {
				t.Fatalf("got %q, %v; want %q, error %v", got, err, tt.want, tt.err)
			}
			if err != nil && !errors.Is(err, connectors.ErrUnauthorized) {
				t.Fatalf("got %v, want an error wrapping ErrUnauthorized", err)
			}
		})
	}
}
