package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/nettest"
)

// writePEM writes blocks of type typ to a file and returns its path.
func writePEM(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clientCert returns a CA and a client certificate it signed, written as
// PEM files: the CA's certificate, the client's certificate and key.
func clientCert(t *testing.T) (ca *x509.Certificate, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "network CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "agent-1"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return ca, writePEM(t, "agent.crt", "CERTIFICATE", der), writePEM(t, "agent.key", "EC PRIVATE KEY", keyDER)
}

// TestEgressTrust: the agent trusts the CA bundle it is given, and
// nothing signed by another CA.
func TestEgressTrust(t *testing.T) {
	broker := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer broker.Close()
	bundle := writePEM(t, "ca.pem", "CERTIFICATE", broker.Certificate().Raw)
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
	ca, certFile, keyFile := clientCert(t)
	broker := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	broker.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	broker.StartTLS()
	defer broker.Close()
	bundle := writePEM(t, "ca.pem", "CERTIFICATE", broker.Certificate().Raw)

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
	c, err := Egress{CAFile: writePEM(t, "ca.pem", "CERTIFICATE", broker.Certificate().Raw), Proxy: http.ProxyURL(proxyURL)}.Client()
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
	c, err := Egress{CAFile: writePEM(t, "ca.pem", "CERTIFICATE", broker.Certificate().Raw)}.Client()
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
