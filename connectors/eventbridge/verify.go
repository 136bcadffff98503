package eventbridge

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/awsevents"
	"github.com/reflexops/reflex/connectors/schemes"
)

// userAgent is what EventBridge's API destinations send as User-Agent.
const userAgent = "Amazon/EventBridge/ApiDestinations"

// Verify checks the credentials the API destination's connection sends,
// in constant time, against each of the source's secrets: the API key
// header's value, or, with Basic authentication, the user name of the
// settings and a secret as the password. EventBridge signs nothing, so
// nothing else can be checked; an empty secret never matches.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	name := c.header
	if name == "" {
		name = "Authorization"
	}
	key, err := connectors.CredentialHeader(req.Header, name)
	if err != nil {
		return err
	}
	if c.header == "" {
		return c.verifyBasic(key, secrets)
	}
	if key == "" {
		return fmt.Errorf("%w: the %s header is missing; give the API destination's connection API key authorization with the key name %s and the source's secret as its value", connectors.ErrUnauthorized, c.header, c.header)
	}
	if !schemes.TokenMatches(key, secrets) {
		return fmt.Errorf("%w: the %s header does not match the source's secret", connectors.ErrUnauthorized, c.header)
	}
	return nil
}

// verifyBasic checks Basic credentials: the user name and the password
// are both compared, in constant time, before either decides.
func (c *Connector) verifyBasic(auth string, secrets [][]byte) error {
	if auth == "" {
		return fmt.Errorf("%w: the Authorization header is missing; give the API destination's connection Basic authorization with the user name of settings.username and the source's secret as the password", connectors.ErrUnauthorized)
	}
	credentials, ok := schemes.BasicCredentials(auth)
	if !ok {
		return fmt.Errorf("%w: the Authorization header does not hold Basic credentials; give the API destination's connection Basic authorization", connectors.ErrUnauthorized)
	}
	user, password, _ := strings.Cut(credentials, ":")
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(c.username))
	passwordOK := 0
	if schemes.TokenMatches(password, secrets) {
		passwordOK = 1
	}
	if userOK&passwordOK != 1 {
		return fmt.Errorf("%w: the Basic credentials do not match settings.username and the source's secret", connectors.ErrUnauthorized)
	}
	return nil
}

// Sign sets the credentials the connection sends: secret in the API key
// header, or Basic credentials of settings.username with secret as the
// password.
func (c *Connector) Sign(header http.Header, _, secret []byte) {
	if c.header != "" {
		header.Set(c.header, string(secret))
		return
	}
	header.Set("Authorization", schemes.BasicAuthorization([]byte(c.username+":"+string(secret))))
}

// Delivery returns the headers an API destination sends and payload with
// typ as its detail-type and id as its id. A payload that is not a JSON
// object is returned as it is.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", userAgent)
	h.Set("Range", "bytes=0-1048575")
	h.Set("Accept-Encoding", "gzip,deflate")
	return h, connectors.EditMembers(payload, func(doc map[string]json.RawMessage) {
		doc["detail-type"], doc["id"] = connectors.JSONString(typ), connectors.JSONString(id)
	})
}

// EventType returns the detail-type of a recorded event.
func (*Connector) EventType(_ http.Header, payload []byte) string {
	e, err := awsevents.Decode(payload)
	if err != nil {
		return ""
	}
	return e.DetailType
}

var _ connectors.Simulator = (*Connector)(nil)
