package sns

import (
	"crypto/rsa"
	"time"

	"github.com/reflexops/reflex/connectors"
)

// Resign is resign, for the tests that sign messages and fixtures.
var Resign = resign

// StringToSign returns the string SNS signs for the message in body.
func StringToSign(body []byte) (string, error) {
	m, err := decodeMessage(body)
	if err != nil {
		return "", err
	}
	s, err := m.stringToSign()
	return string(s), err
}

// CheckCertURL is checkCertURL, for a table test of the URLs it refuses.
func CheckCertURL(rawURL string) error { return checkCertURL(rawURL) }

// CheckSubscribeURL is checkSubscribeURL.
func CheckSubscribeURL(rawURL, topic string) error { return checkSubscribeURL(rawURL, topic) }

// TrustAs makes c take the certificate document doc, whenever it fetches
// it, for a certificate of key: a connector that trusts only a key that
// did not sign the fixtures.
func TrustAs(c connectors.Connector, doc []byte, key *rsa.PublicKey) {
	s := &c.(*Connector).certs
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.parsed == nil {
		s.parsed = map[string]*signingCert{}
	}
	s.parsed[string(doc)] = &signingCert{key: key, notAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// SetClock sets the clock of c's certificate cache.
func SetClock(c connectors.Connector, now func() time.Time) { c.(*Connector).certs.cache.Now = now }
