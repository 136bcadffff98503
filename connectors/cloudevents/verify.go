package cloudevents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// The webhook profile's query parameter for a token.
const queryAccessToken = "access_token"

// Verify checks a delivery with the source's scheme (the auth setting)
// against each of its secrets, in constant time; the body is not decoded.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	switch c.auth {
	case AuthBearer:
		return verifyBearer(req, secrets)
	case AuthStandardWebhooks:
		return c.standard.Verify(req.Header, req.Body, secrets, req.ReceivedAt)
	}
	sig, err := connectors.CredentialHeader(req.Header, c.header)
	if err != nil {
		return err
	}
	if sig == "" {
		return fmt.Errorf("%w: the %s header is missing; this source takes an HMAC-SHA256 of the body there (settings auth, header)", connectors.ErrUnauthorized, c.header)
	}
	if !strings.HasPrefix(sig, c.hmac.Prefix) {
		return fmt.Errorf("%w: %s must start with %q", connectors.ErrUnauthorized, c.header, c.hmac.Prefix)
	}
	if !c.hmac.Matches(sig, req.Body, secrets) {
		return fmt.Errorf("%w: %s is not the hex HMAC-SHA256 of the body with the source's secret", connectors.ErrUnauthorized, c.header)
	}
	return nil
}

// verifyBearer checks the webhook profile's token: Authorization: Bearer,
// or else the access_token query parameter.
func verifyBearer(req *connectors.Request, secrets [][]byte) error {
	token, where := "", "Authorization"
	auth, err := connectors.CredentialHeader(req.Header, "Authorization")
	if err != nil {
		return err
	}
	if auth != "" {
		var ok bool
		if token, ok = schemes.BearerToken(auth); !ok {
			return fmt.Errorf("%w: the Authorization header must be \"Bearer <token>\"", connectors.ErrUnauthorized)
		}
	} else {
		token, where = req.Query.Get(queryAccessToken), "the access_token query parameter"
	}
	if token == "" {
		return fmt.Errorf("%w: no token: send Authorization: Bearer <token> or the access_token query parameter", connectors.ErrUnauthorized)
	}
	if !schemes.TokenMatches(token, secrets) {
		return fmt.Errorf("%w: the token in %s does not match the source's secret", connectors.ErrUnauthorized, where)
	}
	return nil
}

// Sign authenticates body with secret as the source's scheme requires: an
// HMAC in the signature header, a bearer token, or a Standard Webhooks
// signature. The latter keeps a webhook-id and webhook-timestamp already in
// header (a recorded delivery's), else takes ce-id (or a hash of body) and
// the current time.
func (c *Connector) Sign(header http.Header, body, secret []byte) {
	switch c.auth {
	case AuthBearer:
		header.Set("Authorization", "Bearer "+string(secret))
	case AuthStandardWebhooks:
		id := header.Get(schemes.HeaderWebhookID)
		if id == "" {
			id = header.Get(HeaderID)
		}
		if id == "" {
			sum := sha256.Sum256(body)
			id = "msg_" + hex.EncodeToString(sum[:16])
		}
		at := time.Now()
		if ts, err := strconv.ParseInt(header.Get(schemes.HeaderWebhookTimestamp), 10, 64); err == nil {
			at = time.Unix(ts, 0)
		}
		schemes.Sign(header, id, at, body, secret)
	default:
		header.Set(c.header, c.hmac.Sum(body, secret))
	}
}

var _ connectors.Signer = (*Connector)(nil)
