package github_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/github"
)

// FuzzParse feeds arbitrary bodies and event types to Parse: it must either
// return an event or one of the connector errors, and never panic.
func FuzzParse(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		f.Add(fx.Header.Get(github.HeaderEvent), fx.Body)
	}
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(github.HeaderEvent, typ)
		h.Set(github.HeaderDelivery, "fuzz")
		res, err := github.New().Parse(&connectors.Request{Header: h, Body: body})
		if err != nil {
			if !errors.Is(err, connectors.ErrMalformed) && !errors.Is(err, connectors.ErrUnsupportedMediaType) {
				t.Fatalf("Parse returned an unclassified error: %v", err)
			}
			return
		}
		if !res.Ping && res.Event == nil {
			t.Fatal("Parse returned neither an event nor a ping")
		}
	})
}

// FuzzVerify feeds Verify fixtures with a fuzzed header and body, checked
// against a secret that did not sign them: nothing may verify.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
