package pubsub_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/pubsub"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/testclock"
)

// testKey signs the kit's tokens; otherKey is a key no source trusts.
// Both are test keys, committed for that purpose only.
var (
	testKey  = mustRead("testdata/test-key.pem")
	otherKey = mustRead("testdata/other-test-key.pem")
)

// goodKeys serves testKey's public half, wrongKeys otherKey's; both are
// started by TestMain.
var goodKeys, wrongKeys *keyServer

func TestMain(m *testing.M) {
	goodKeys, wrongKeys = newKeyServer(testKey), newKeyServer(otherKey)
	code := m.Run()
	goodKeys.Close()
	wrongKeys.Close()
	os.Exit(code)
}

// kit is the connector under test, configured with the fixtures' source
// settings and the key endpoint that serves testKey. WrongKeys returns
// one connector, shared, so that fuzzing does not fetch keys every time.
var kit = connectortest.Kit{
	Name:      pubsub.Name,
	New:       func() connectors.Connector { return configure(nil, goodKeys, nil) },
	Source:    "acme-pubsub",
	Secret:    testKey,
	WrongKeys: sync.OnceValue(func() connectors.Connector { return configure(nil, wrongKeys, nil) }),
}

// configure returns a connector with the fixtures' settings, changed by
// edit, fetching its keys from ks, whose Sign issues tokens at the kit's
// receive time. t may be nil: a misconfiguration then panics.
func configure(t testing.TB, ks *keyServer, edit func(s map[string]any)) connectors.Connector {
	s, err := fixtures.SourceSettings(pubsub.Name)
	if err == nil {
		s["keys_url"] = ks.URL + "/oauth2/v3/certs"
		if edit != nil {
			edit(s)
		}
		c := pubsub.New()
		if err = c.(connectors.Configurable).Configure(s); err == nil {
			pubsub.SetSignClock(c, func() time.Time { return connectortest.ReceivedAt })
			return c
		}
	}
	if t == nil {
		panic(err)
	}
	t.Fatal(err)
	return nil
}

// keyServer is a key endpoint: it serves a JWKS, or fails while down, and
// counts the requests it gets.
type keyServer struct {
	*httptest.Server
	mu           sync.Mutex
	jwks         []byte
	down         bool
	cacheControl string
	fetches      atomic.Int64
}

// newKeyServer starts a key endpoint serving the public halves of the PEM
// private keys given, as Google does: with a max-age of some hours.
func newKeyServer(keys ...[]byte) *keyServer {
	ks := &keyServer{cacheControl: "public, max-age=19803, must-revalidate, no-transform"}
	ks.serve(keys...)
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		if ks.down {
			http.Error(w, "backend unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Header().Set("Cache-Control", ks.cacheControl)
		_, _ = w.Write(ks.jwks)
	}))
	return ks
}

// serve makes the endpoint serve the public halves of keys.
func (ks *keyServer) serve(keys ...[]byte) {
	jwks, err := pubsub.PublicKeySet(keys...)
	if err != nil {
		panic(err)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.jwks = jwks
}

// setDown makes the endpoint fail, or serve again.
func (ks *keyServer) setDown(down bool) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.down = down
}

// setCacheControl sets the Cache-Control of the endpoint's answers.
func (ks *keyServer) setCacheControl(cc string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.cacheControl = cc
}

// newTestKeyServer starts a key endpoint for one test.
func newTestKeyServer(t *testing.T, keys ...[]byte) *keyServer {
	ks := newKeyServer(keys...)
	t.Cleanup(ks.Close)
	return ks
}

// newClock is a clock the tests move, standing at the fixtures' receive
// time.
func newClock() *testclock.Clock { return testclock.New(connectortest.ReceivedAt) }

func mustRead(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return b
}

// rsaKey reads a PEM PKCS #8 RSA private key.
func rsaKey(t testing.TB, pemKey []byte) *rsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode(pemKey)
	if block == nil {
		t.Fatal("not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}
