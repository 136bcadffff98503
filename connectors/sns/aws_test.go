package sns_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/connectors/sns"
	"github.com/reflexops/reflex/fixtures"
)

// The test key that signs the fixtures, and its certificate, which the
// fake SNS endpoint serves as SNS's signing certificate.
var (
	//go:embed testdata/sns-test-key.pem
	testKeyPEM []byte
	//go:embed testdata/sns-test-cert.pem
	testCertPEM []byte
)

// testKey is the parsed test key.
var testKey = func() *rsa.PrivateKey {
	block, _ := pem.Decode(testKeyPEM)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	return key
}()

// otherKey is a key that signed nothing, made once.
var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return key
})

// fakeAWS stands in for every SNS endpoint: the client of its ctx sends
// every request, whatever its host, to it, over TLS, so the URLs the
// connector checks are the real-looking ones of the messages.
type fakeAWS struct {
	srv *httptest.Server
	// ctx carries the client (keyfetch.WithClient).
	ctx context.Context
	// certFetches and confirms count the requests for a certificate and
	// for a SubscribeURL.
	certFetches, confirms atomic.Int64
	// down makes every answer 503; confirmStatus, when set, is the
	// status of a confirmation.
	down          atomic.Bool
	confirmStatus atomic.Int64
	// lastHost is the Host of the last request.
	lastHost atomic.Value
}

// startFakeAWS starts a fake SNS; stop it with srv.Close.
func startFakeAWS() *fakeAWS {
	a := &fakeAWS{}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	transport := a.srv.Client().Transport.(*http.Transport).Clone()
	addr := a.srv.Listener.Addr().String()
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	transport.DialTLSContext = nil
	// httptest's certificate is for example.com; the URL's host is
	// SNS's.
	transport.TLSClientConfig.ServerName = "example.com"
	a.ctx = keyfetch.WithClient(context.Background(), keyfetch.NewClient(transport))
	return a
}

// newFakeAWS starts a fake SNS for one test.
func newFakeAWS(t testing.TB) *fakeAWS {
	a := startFakeAWS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	a.lastHost.Store(r.Host)
	if a.down.Load() {
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, ".pem"):
		a.certFetches.Add(1)
		w.Header().Set("Cache-Control", "max-age=86400")
		w.Write(testCertPEM)
	case r.Method == http.MethodGet && r.URL.Path == "/" && r.URL.Query().Get("Action") == "ConfirmSubscription":
		a.confirms.Add(1)
		if s := a.confirmStatus.Load(); s != 0 {
			http.Error(w, http.StatusText(int(s)), int(s))
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>%s:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>075ecce8-8dac-11e1-bf80-f781d96e9307</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>`, r.URL.Query().Get("TopicArn"))
	default:
		http.NotFound(w, r)
	}
}

// testTopic is the topic of the fixtures.
const testTopic = "arn:aws:sns:us-east-1:123456789012:reflex-builds"

// configured returns a connector with settings.
func configured(t testing.TB, settings map[string]any) connectors.Connector {
	t.Helper()
	c := sns.New()
	if err := c.(connectors.Configurable).Configure(settings); err != nil {
		t.Fatalf("Configure(%v): %v", settings, err)
	}
	return c
}

// newConnector returns a connector configured as the fixtures need.
func newConnector() connectors.Connector {
	settings, err := fixtures.SourceSettings(sns.Name)
	if err != nil {
		panic(err)
	}
	c := sns.New()
	if err := c.(connectors.Configurable).Configure(settings); err != nil {
		panic(err)
	}
	return c
}

// wrongKeys returns a connector configured as the fixtures need that
// takes the signing certificate for one of another key.
func wrongKeys() connectors.Connector {
	c := newConnector()
	sns.TrustAs(c, testCertPEM, &otherKey().PublicKey)
	return c
}

// signed returns body signed with the test key.
func signed(t testing.TB, body string) []byte {
	t.Helper()
	out, err := sns.Resign([]byte(body), testKey)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return out
}

// fixture returns a fixture's body and headers.
func fixture(t testing.TB, name string) fixtures.Fixture {
	t.Helper()
	f, err := fixtures.Get(sns.Name, name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// signatureOf finds a body's Signature.
var signatureOf = regexp.MustCompile(`("Signature" : ")([^"]*)(")`)
