package pubsub_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/connectors/pubsub"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/testclock"
)

// keyTest is a connector with its own key endpoint and cache clock.
type keyTest struct {
	t     *testing.T
	ks    *keyServer
	clock *testclock.Clock
	conn  connectors.Connector
	req   *connectors.Request
}

// newKeyTest starts a key endpoint serving keys and a connector fetching
// from it, with a cache clock the test moves.
func newKeyTest(t *testing.T, keys ...[]byte) *keyTest {
	kt := &keyTest{t: t, ks: newTestKeyServer(t, keys...), clock: newClock()}
	kt.conn = configure(t, kt.ks, nil)
	pubsub.SetCacheClock(kt.conn, kt.clock.Now)
	f, err := fixtures.Get(pubsub.Name, "cloud-build.success")
	if err != nil {
		t.Fatal(err)
	}
	kt.req = kit.Request(t, f)
	return kt
}

// verify verifies the fixture's request with tok as its token ("" for the
// token Sign made).
func (kt *keyTest) verify(tok string) error {
	req := *kt.req
	req.Header = kt.req.Header.Clone()
	if tok != "" {
		bearer(tok)(&req)
	}
	return kt.conn.Verify(kt.t.Context(), &req, nil)
}

// wantFetches fails the test unless the endpoint was asked n times.
func (kt *keyTest) wantFetches(n int64) {
	kt.t.Helper()
	if got := kt.ks.fetches.Load(); got != n {
		kt.t.Fatalf("the key endpoint was asked %d times, want %d", got, n)
	}
}

// TestKeyEndpointDown: while no key set can be fetched, a delivery is
// unavailable (503), never unauthorized; the endpoint is not asked again
// before keyfetch.RetryAfter; once it answers, deliveries verify.
func TestKeyEndpointDown(t *testing.T) {
	kt := newKeyTest(t, testKey)
	kt.ks.setDown(true)
	for range 3 {
		err := kt.verify("")
		if !errors.Is(err, connectors.ErrUnavailable) || errors.Is(err, connectors.ErrUnauthorized) {
			t.Fatalf("Verify with the key endpoint down = %v, want ErrUnavailable and not ErrUnauthorized", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") || !strings.Contains(err.Error(), "503") {
			t.Errorf("the error %q does not say which endpoint failed how", err)
		}
	}
	kt.wantFetches(1)
	kt.ks.setDown(false)
	if err := kt.verify(""); !errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("Verify within RetryAfter of the failure = %v, want ErrUnavailable (the endpoint is not hammered)", err)
	}
	kt.wantFetches(1)
	kt.clock.Advance(keyfetch.RetryAfter)
	if err := kt.verify(""); err != nil {
		t.Fatalf("Verify once the endpoint is back: %v", err)
	}
	kt.wantFetches(2)
}

// TestKeyEndpointUnreachable: a key endpoint nothing listens on is
// unavailable too.
func TestKeyEndpointUnreachable(t *testing.T) {
	kt := newKeyTest(t, testKey)
	kt.ks.Close()
	if err := kt.verify(""); !errors.Is(err, connectors.ErrUnavailable) || errors.Is(err, connectors.ErrUnauthorized) {
		t.Fatalf("Verify = %v, want ErrUnavailable", err)
	}
}

// TestKeySetNotJWKS: a key endpoint that answers with something else is
// unavailable, not a forgery.
func TestKeySetNotJWKS(t *testing.T) {
	for _, doc := range []string{`<html>maintenance</html>`, `{"keys":[]}`, `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"ec"}]}`} {
		kt := newKeyTest(t, testKey)
		kt.ks.mu.Lock()
		kt.ks.jwks = []byte(doc)
		kt.ks.mu.Unlock()
		err := kt.verify("")
		if !errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), "cannot be read") {
			t.Errorf("%s: Verify = %v, want ErrUnavailable saying the set cannot be read", doc, err)
		}
	}
}

// TestKeysCachedForMaxAge: many deliveries, each with a token of its own,
// cost one fetch while the key set's max-age lasts, and one parse of it;
// after it, the set is fetched (and parsed) again.
func TestKeysCachedForMaxAge(t *testing.T) {
	kt := newKeyTest(t, testKey)
	kt.ks.setCacheControl("public, max-age=3600")
	key := rsaKey(t, testKey)
	for i := range 50 {
		tok := token(t, key, func(c map[string]any) { c["iat"] = c["iat"].(int64) - int64(i) })
		if err := kt.verify(tok); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	kt.wantFetches(1)
	parsed := pubsub.ParsedKeySet(kt.conn)
	kt.clock.Advance(3599 * time.Second)
	if err := kt.verify(""); err != nil {
		t.Fatal(err)
	}
	kt.wantFetches(1)
	if pubsub.ParsedKeySet(kt.conn) != parsed {
		t.Fatal("the key set was parsed again while the cache kept the same document")
	}
	kt.clock.Advance(time.Second)
	if err := kt.verify(""); err != nil {
		t.Fatal(err)
	}
	kt.wantFetches(2)
	if pubsub.ParsedKeySet(kt.conn) == parsed {
		t.Fatal("a new document was not parsed")
	}
}

// TestKeyRotation: a token signed with a key the cached set lacks makes
// the connector fetch the set again, at most once per
// keyfetch.MinRefresh, so a new key is found and a forger's kid costs
// little.
func TestKeyRotation(t *testing.T) {
	kt := newKeyTest(t, testKey)
	newer := rsaKey(t, otherKey)
	if err := kt.verify(""); err != nil {
		t.Fatal(err)
	}
	kt.wantFetches(1)
	rotated := token(t, newer, nil)
	kt.ks.serve(testKey, otherKey)
	for range 5 {
		if err := kt.verify(rotated); !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), "does not hold") {
			t.Fatalf("Verify before MinRefresh = %v, want ErrUnauthorized (the set was fetched too recently)", err)
		}
	}
	kt.wantFetches(1)
	kt.clock.Advance(keyfetch.MinRefresh)
	if err := kt.verify(rotated); err != nil {
		t.Fatalf("Verify with the new key once the set may be fetched again: %v", err)
	}
	kt.wantFetches(2)
	for range 5 {
		if err := kt.verify(rotated); err != nil {
			t.Fatal(err)
		}
	}
	kt.wantFetches(2)
}

// TestRememberedTokenNeedsItsKeySet: a token remembered as verified is
// verified again once the cache holds another key set, and refused when
// that set no longer holds its key (a key withdrawn).
func TestRememberedTokenNeedsItsKeySet(t *testing.T) {
	kt := newKeyTest(t, testKey)
	kt.ks.setCacheControl("max-age=600")
	if err := kt.verify(""); err != nil {
		t.Fatal(err)
	}
	kt.ks.serve(otherKey)
	if err := kt.verify(""); err != nil {
		t.Fatalf("Verify while the cached set holds the key: %v", err)
	}
	kt.clock.Advance(600 * time.Second)
	if err := kt.verify(""); !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("Verify once the key is withdrawn = %v, want ErrUnauthorized", err)
	}
}

// TestRememberedTokenClaimsChecked: a remembered token's claims are
// checked at every delivery's receive time.
func TestRememberedTokenClaimsChecked(t *testing.T) {
	kt := newKeyTest(t, testKey)
	if err := kt.verify(""); err != nil {
		t.Fatal(err)
	}
	kt.req.ReceivedAt = connectortest.ReceivedAt.Add(2 * time.Hour)
	if err := kt.verify(""); !errors.Is(err, connectors.ErrStale) {
		t.Fatalf("Verify of a remembered token two hours later = %v, want ErrStale", err)
	}
	other := configure(t, kt.ks, func(s map[string]any) { s["audience"] = "https://other.example.com/push" })
	pubsub.SetCacheClock(other, kt.clock.Now)
	kt.req.ReceivedAt = connectortest.ReceivedAt
	if err := other.Verify(t.Context(), kt.req, nil); !errors.Is(err, connectors.ErrUnauthorized) {
		t.Fatalf("Verify by a source with another audience = %v, want ErrUnauthorized", err)
	}
}

// TestKeysFetchedWithContextClient: the key set is fetched with the
// client the context carries (keyfetch.WithClient), as the intake's.
func TestKeysFetchedWithContextClient(t *testing.T) {
	kt := newKeyTest(t, testKey)
	var used bool
	client := keyfetch.NewClient(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	}))
	req := *kt.req
	if err := kt.conn.Verify(keyfetch.WithClient(t.Context(), client), &req, nil); err != nil {
		t.Fatal(err)
	}
	if !used {
		t.Fatal("the key set was not fetched with the context's client")
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
