package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Egress is how the agent reaches Reflex's API from inside a secured
// network: outbound HTTPS only, through the network's proxy when there is
// one, trusting the network's own CA when it inspects or issues
// certificates, and presenting a client certificate where the broker's
// front end asks for one.
type Egress struct {
	// CAFile, when set, is a PEM bundle of certificate authorities trusted
	// besides the system's.
	CAFile string
	// CertFile and KeyFile, when set, are the agent's client certificate
	// and key (PEM), for mutual TLS.
	CertFile, KeyFile string
	// Proxy chooses the proxy of a request. Default: HTTPS_PROXY,
	// HTTP_PROXY and NO_PROXY from the environment, as Go reads them.
	Proxy func(*http.Request) (*url.URL, error)
}

// Timeouts of the agent's connections to Reflex; a request's own deadline
// (a long poll's, say) bounds the rest.
const (
	dialTimeout      = 10 * time.Second
	handshakeTimeout = 10 * time.Second
	idleTimeout      = 90 * time.Second
)

// Client returns the HTTP client the agent talks to Reflex with.
func (e Egress) Client() (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if e.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(e.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s: no PEM certificate in it", e.CAFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case e.CertFile != "" && e.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(e.CertFile, e.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case e.CertFile != "" || e.KeyFile != "":
		return nil, errors.New("a client certificate needs both its certificate and its key file")
	}
	proxy := e.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	transport := &http.Transport{
		Proxy:               proxy,
		DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     cfg,
		TLSHandshakeTimeout: handshakeTimeout,
		IdleConnTimeout:     idleTimeout,
		MaxIdleConnsPerHost: 4,
		ForceAttemptHTTP2:   true,
	}
	// A redirect is never followed: it would carry the agent's key
	// wherever it pointed, plain HTTP included. The agent takes it as the
	// error it is.
	return &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, nil
}
