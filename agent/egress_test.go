package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/reflexops/reflex/internal/nettest"
)

// TestEgressTrust: the agent trusts the CA bundle it is given, and
// nothing signed by another CA.
func TestEgressTrust(t *testing.T) {
	broker := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer broker.Close()
	bundle := nettest.WritePEM(t, "ca.pem", "CERTIFICATE", broker.Certificate().Raw)
	for _, tt := range []struct {
		name    string
		egress  Egress
		wantErr string
	}{
		{"with the network's CA", Egress{CAFile: bundle}, ""},
		{"with the system's CAs only", Egress{}, "certificate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.egress.Client()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Get(broker.URL)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("GET = %v, want an error about the %s", err, tt.wantErr)
			}
		})
	}
	if _, err := (Egress{CAFile: filepath.Join(t.TempDir(), "none.pem")}).Client(); err == nil {
		t.Error("a missing CA bundle was accepted")
	}
	if _, err := (Egress{CertFile: bundle}).Client(); err == nil {
		t.Error("a client certificate without its key was accepted")
	}
}

// TestEgressClientCertificate: a broker front end that requires client
// certificates lets the agent in with its own, and refuses it without.
func TestEgressClientCertificate(t *testing.T) {
	ca := nettest.NewCA(t)
	certFile, keyFile := ca.Issue("agent-1", true)
	broker := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	broker.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	broker.StartTLS()
	defer broker.Close()
	bundle := nettest.WritePEM(t, "ca.pem", "CERTIFICATE", broker.Certificate().Raw)

	c, err := Egress{CAFile: bundle, CertFile: certFile, KeyFile: keyFile}.Client()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(broker.URL)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(name) != "agent-1" {
		t.Errorf("the broker saw %q, want agent-1", name)
	}
	without, err := Egress{CAFile: bundle}.Client()
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := without.Get(broker.URL); err == nil {
		resp.Body.Close()
		t.Error("the broker let in an agent without a client certificate")
	}
}

// TestEgressProxy: the agent reaches an HTTPS broker through a CONNECT
// proxy, end to end encrypted.
func TestEgressProxy(t *testing.T) {
	broker := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer broker.Close()
	proxy := nettest.StartConnectProxy(t, nil)
	proxyURL, _ := url.Parse(proxy.URL)
	c, err := Egress{CAFile: nettest.WritePEM(t, "ca.pem", "CERTIFICATE", broker.Certificate().Raw), Proxy: http.ProxyURL(proxyURL)}.Client()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(broker.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if tunnels, _ := proxy.Stats(); string(body) != "ok" || tunnels != 1 {
		t.Errorf("answer %q through %d tunnels, want ok through 1", body, tunnels)
	}
}

// TestEgressFollowsNoRedirect: a redirect is answered as it is, never
// followed: it would carry the agent's key elsewhere, even in clear.
func TestEgressFollowsNoRedirect(t *testing.T) {
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") != "")
	}))
	defer elsewhere.Close()
	broker := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/api/v1/agents/connect", http.StatusTemporaryRedirect)
	}))
	defer broker.Close()
	c, err := Egress{CAFile: nettest.WritePEM(t, "ca.pem", "CERTIFICATE", broker.Certificate().Raw)}.Client()
	if err != nil {
		t.Fatal(err)
	}
	b, err := newBroker(broker.URL, "agent-1.s3cret", "test", c)
	if err != nil {
		t.Fatal(err)
	}
	status, err := b.call(context.Background(), "/api/v1/agents/connect", struct{}{}, nil)
	if status != http.StatusTemporaryRedirect || err == nil || leaked.Load() {
		t.Fatalf("call = %d, %v; the key went elsewhere: %v", status, err, leaked.Load())
	}
}
