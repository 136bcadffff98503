package jenkins_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/jenkins"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies to Parse, as they are and with an
// arbitrary phase written into them: it must return an event with the
// mandatory fields or one of the connector errors, and never panic.
func FuzzParse(f *testing.F) {
	sim := jenkins.New().(connectors.Simulator)
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(sim.EventType(fx.Header, fx.Body), fx.Body)
	})
	f.Fuzz(func(t *testing.T, phase string, body []byte) {
		h, _ := sim.Delivery(phase, "", nil)
		connectortest.CheckParse(t, jenkins.New(), &connectors.Request{Header: h, Body: body})
		h, body = sim.Delivery(phase, "", body)
		connectortest.CheckParse(t, jenkins.New(), &connectors.Request{Header: h, Body: body})
	})
}

// FuzzVerify: no fuzzed header or body verifies against a secret that did
// not sign it, and every refusal is ErrUnauthorized or ErrMalformed.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }

// FuzzURLToken: in the default mode, no fuzzed URL token verifies
// against a secret it is not, and no refusal holds the token.
func FuzzURLToken(f *testing.F) {
	f.Add(string(testSecret))
	f.Add("")
	f.Add(string(testSecret) + "x")
	c := jenkins.New()
	f.Fuzz(func(t *testing.T, token string) {
		req := &connectors.Request{Source: "acme-jenkins", PathToken: token}
		err := c.Verify(context.Background(), req, [][]byte{testSecret})
		if (err == nil) != (token == string(testSecret)) {
			t.Fatalf("Verify(%q) = %v", token, err)
		}
		if err != nil && (!errors.Is(err, connectors.ErrUnauthorized) || len(token) > 3 && strings.Contains(err.Error(), token)) {
			t.Fatalf("Verify(%q) = %v", token, err)
		}
	})
}
