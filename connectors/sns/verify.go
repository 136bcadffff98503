package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" // SignatureVersion 1 is SHA1withRSA, which SNS still sends by default.
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
)

// The signature versions SNS signs with.
const (
	// SignatureVersion1 is SHA1withRSA, the default of a topic.
	SignatureVersion1 = "1"
	// SignatureVersion2 is SHA256withRSA, a topic's SignatureVersion
	// attribute set to 2.
	SignatureVersion2 = "2"
)

// maxSignature bounds the Signature field: a 4096-bit key's signature is
// 684 characters of base64.
const maxSignature = 1024

// Verify checks an SNS message's own signature; it needs no secret, and
// secrets are ignored. The body is decoded (the signature covers its
// fields, not its bytes) and checked in this order, so that nothing is
// fetched for a message refused on its face: the topic is one of
// settings.topic_arns; the SignatureVersion is 2, or 1 while
// settings.allow_signature_version_1 allows it; the Timestamp lies
// within settings.tolerance of the receive time; the SigningCertURL is
// an https URL on sns.<region>.amazonaws.com ending in .pem. Then the
// certificate is fetched (once per cache period) and the signature of
// the message's string to sign checked with its RSA key (PKCS #1 v1.5,
// SHA-1 or SHA-256), the certificate valid at the receive time. A raw
// message delivery, which carries no signature, is refused.
func (c *Connector) Verify(ctx context.Context, req *connectors.Request, _ [][]byte) error {
	if strings.EqualFold(req.Header.Get(HeaderRawDelivery), "true") {
		return fmt.Errorf("%w: a raw message delivery carries no signature; turn raw message delivery off on the subscription", connectors.ErrUnauthorized)
	}
	m, err := decodeMessage(req.Body)
	if err != nil {
		return err
	}
	if err := m.checkHeaders(req.Header); err != nil {
		return err
	}
	return c.verify(ctx, m, req.ReceivedAt)
}

// verify checks a decoded message's topic, timestamp and signature, as
// Verify says.
func (c *Connector) verify(ctx context.Context, m *message, now time.Time) error {
	if len(c.topics) == 0 {
		return fmt.Errorf("%w: the source names no SNS topic (settings.topic_arns), so it accepts none", connectors.ErrUnauthorized)
	}
	if !c.allowsTopic(m.TopicArn) {
		return fmt.Errorf("%w: the topic %s is not one this source takes messages from (settings.topic_arns)", connectors.ErrUnauthorized, clip(m.TopicArn, 300))
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case SignatureVersion1:
		if !c.allowV1 {
			return fmt.Errorf("%w: the message is signed with SignatureVersion 1 (SHA1withRSA), which this source refuses (settings.allow_signature_version_1); set the topic's SignatureVersion attribute to 2", connectors.ErrUnauthorized)
		}
		hash = crypto.SHA1
	case SignatureVersion2:
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w: the SignatureVersion is neither 1 nor 2", connectors.ErrUnauthorized)
	}
	if m.Signature == "" {
		return fmt.Errorf("%w: the message has no Signature", connectors.ErrUnauthorized)
	}
	if len(m.Signature) > maxSignature {
		return fmt.Errorf("%w: the Signature is longer than any RSA signature SNS makes", connectors.ErrUnauthorized)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: the Signature is not base64", connectors.ErrUnauthorized)
	}
	ts, err := time.Parse(time.RFC3339Nano, m.Timestamp)
	if err != nil {
		return fmt.Errorf("%w: the message's Timestamp is not an RFC 3339 time", connectors.ErrUnauthorized)
	}
	if err := connectors.CheckTimestamp("the message's Timestamp", ts.Unix(), now, c.tolerance); err != nil {
		return err
	}
	signed, err := m.stringToSign()
	if err != nil {
		return err
	}
	if err := checkCertURL(m.SigningCertURL); err != nil {
		return err
	}
	cert, err := c.certs.get(ctx, m.SigningCertURL, now)
	if err != nil {
		return err
	}
	if now.Before(cert.notBefore) || now.After(cert.notAfter) {
		return fmt.Errorf("%w: the signing certificate is not valid at the receive time", connectors.ErrUnauthorized)
	}
	if err := rsa.VerifyPKCS1v15(cert.key, hash, digest(hash, signed), sig); err != nil {
		return fmt.Errorf("%w: the Signature does not match the message and the SNS signing certificate", connectors.ErrUnauthorized)
	}
	return nil
}

// digest returns the SHA-1 or SHA-256 of data.
func digest(hash crypto.Hash, data []byte) []byte {
	if hash == crypto.SHA1 {
		sum := sha1.Sum(data)
		return sum[:]
	}
	sum := sha256.Sum256(data)
	return sum[:]
}
