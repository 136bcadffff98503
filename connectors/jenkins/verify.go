package jenkins

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// Verify compares the token, wherever the source's settings put it, with
// each of the source's secrets in constant time: the URL's token, the
// token header, or the Basic credentials "user:password" whole. No error
// holds the token. An empty secret never matches.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	switch c.mode {
	case tokenInHeader:
		value, err := connectors.CredentialHeader(req.Header, c.header)
		if err != nil {
			return err
		}
		if value == "" {
			return fmt.Errorf("%w: the %s header is missing; have the sender set it to the source's secret", connectors.ErrUnauthorized, c.header)
		}
		if !schemes.TokenMatches(value, secrets) {
			return fmt.Errorf("%w: the %s header does not match the source's secret", connectors.ErrUnauthorized, c.header)
		}
	case tokenInBasic:
		auth, err := connectors.CredentialHeader(req.Header, "Authorization")
		if err != nil {
			return err
		}
		if auth == "" {
			return fmt.Errorf("%w: the Authorization header is missing; put user:password@ (the source's secret) in the endpoint URL", connectors.ErrUnauthorized)
		}
		credentials, ok := schemes.BasicCredentials(auth)
		if !ok {
			return fmt.Errorf("%w: the Authorization header does not hold Basic credentials; put user:password@ in the endpoint URL", connectors.ErrUnauthorized)
		}
		if !schemes.TokenMatches(credentials, secrets) {
			return fmt.Errorf("%w: the Basic credentials do not match the source's secret (user:password)", connectors.ErrUnauthorized)
		}
	default:
		return schemes.CheckPathToken(req, secrets, "the Jenkins Notification plugin")
	}
	return nil
}

// Sign sets what carries the token in a header: the token header, or
// Basic credentials, secret being "user:password". A token in the URL is
// not a header: it goes in the path the delivery is posted to, and Sign
// sets nothing.
func (c *Connector) Sign(header http.Header, _, secret []byte) {
	switch c.mode {
	case tokenInHeader:
		header.Set(c.header, string(secret))
	case tokenInBasic:
		header.Set("Authorization", schemes.BasicAuthorization(secret))
	}
}

// The headers the plugin sends: the JSON media type it writes, and
// HttpURLConnection's User-Agent.
const (
	contentType = "application/json;charset=UTF-8"
	userAgent   = "Java/17.0.13"
)

// Delivery returns the headers the plugin sends and payload with typ
// written as its build.phase. id is not used: the plugin sends no
// delivery id, so Parse hashes the body. A payload that is not a JSON
// object with a build object is returned as it is.
func (*Connector) Delivery(typ, _ string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("User-Agent", userAgent)
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(payload, &doc); err != nil || doc == nil {
		return h, payload
	}
	var build map[string]json.RawMessage
	if err := json.Unmarshal(doc["build"], &build); err != nil || build == nil {
		return h, payload
	}
	phase, _ := json.Marshal(typ)
	build["phase"] = phase
	raw, err := json.Marshal(build)
	if err != nil {
		return h, payload
	}
	doc["build"] = raw
	body, err := json.Marshal(doc)
	if err != nil {
		return h, payload
	}
	return h, body
}

// EventType returns the build.phase of a recorded payload.
func (*Connector) EventType(_ http.Header, payload []byte) string {
	var n struct {
		Build struct {
			Phase string `json:"phase"`
		} `json:"build"`
	}
	if connectors.Decode(payload, &n) != nil {
		return ""
	}
	return n.Build.Phase
}

var _ connectors.Simulator = (*Connector)(nil)
