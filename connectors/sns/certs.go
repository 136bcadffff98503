package sns

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
)

// Bounds of a certificate store.
const (
	// maxParsed bounds the certificates kept parsed; SNS signs with one
	// certificate per region at a time.
	maxParsed = 16
	// maxNewURLs is how many certificate URLs not asked for before may
	// be fetched per newURLWindow: a sender can name any path on an SNS
	// endpoint, and each would otherwise cost a fetch and a cache entry.
	maxNewURLs   = 16
	newURLWindow = time.Minute
	// maxSeen bounds the URLs remembered as fetched.
	maxSeen = 256
	// minKeyBits is the smallest RSA key trusted; SNS's are 2048 bits.
	minKeyBits = 2048
)

// signingCert is a parsed signing certificate: its key and when it is
// valid.
type signingCert struct {
	key                 *rsa.PublicKey
	notBefore, notAfter time.Time
}

// certStore fetches signing certificates through a keyfetch.Cache (once
// per cache period, with a timeout) and parses each fetched document
// once.
type certStore struct {
	cache keyfetch.Cache

	mu sync.Mutex
	// parsed holds the parsed certificates by their PEM document.
	parsed map[string]*signingCert
	// seen holds the certificate URLs fetched successfully; fresh holds
	// the other URLs let through since window began.
	seen   map[string]struct{}
	window time.Time
	fresh  map[string]struct{}
}

// get returns the certificate at rawURL, a URL checkCertURL accepted.
// Errors wrap ErrUnavailable when it cannot be had now, ErrUnauthorized
// when what is there is not an RSA certificate.
func (s *certStore) get(ctx context.Context, rawURL string, now time.Time) (*signingCert, error) {
	if err := s.admit(rawURL, now); err != nil {
		return nil, err
	}
	doc, err := s.cache.Get(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("the signing certificate: %w", err)
	}
	s.mu.Lock()
	if _, ok := s.seen[rawURL]; !ok {
		if s.seen == nil || len(s.seen) >= maxSeen {
			s.seen = map[string]struct{}{}
		}
		s.seen[rawURL] = struct{}{}
	}
	cert := s.parsed[string(doc)]
	s.mu.Unlock()
	if cert != nil {
		return cert, nil
	}
	cert, err = parseCert(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: the SigningCertURL does not hold a usable certificate: %v", connectors.ErrUnauthorized, err)
	}
	s.mu.Lock()
	if len(s.parsed) >= maxParsed {
		clear(s.parsed)
	}
	if s.parsed == nil {
		s.parsed = map[string]*signingCert{}
	}
	s.parsed[string(doc)] = cert
	s.mu.Unlock()
	return cert, nil
}

// admit lets a URL fetched before through (the cache has it, or its last
// good copy), and at most maxNewURLs others per newURLWindow, each as
// often as asked (the cache fetches it once for concurrent callers, and
// after a failure not again for keyfetch.RetryAfter), so that a sender
// naming ever new URLs costs a bounded number of fetches. The refusal
// wraps ErrUnavailable: a genuine message refused while someone floods
// the endpoint is delivered again.
func (s *certStore) admit(rawURL string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[rawURL]; ok {
		return nil
	}
	if now.Sub(s.window) >= newURLWindow || now.Before(s.window) {
		s.window, s.fresh = now, map[string]struct{}{}
	}
	if _, ok := s.fresh[rawURL]; ok {
		return nil
	}
	if len(s.fresh) >= maxNewURLs {
		return fmt.Errorf("%w: more than %d signing certificates not fetched before were asked for in the last %s; try again later", connectors.ErrUnavailable, maxNewURLs, newURLWindow)
	}
	s.fresh[rawURL] = struct{}{}
	return nil
}

// parseCert reads the first certificate of a PEM document and its RSA
// key.
func parseCert(doc []byte) (*signingCert, error) {
	block, _ := pem.Decode(doc)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("its key is not an RSA key")
	}
	if key.N.BitLen() < minKeyBits {
		return nil, fmt.Errorf("its RSA key has fewer than %d bits", minKeyBits)
	}
	return &signingCert{key: key, notBefore: cert.NotBefore, notAfter: cert.NotAfter}, nil
}
