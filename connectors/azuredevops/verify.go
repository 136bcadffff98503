package azuredevops

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// userAgent is what Azure DevOps' service hooks send as User-Agent.
const userAgent = "VSServices/16.255.35804.2"

// Verify checks the delivery's credentials against each of the source's
// secrets in constant time: the Basic credentials of the Authorization
// header, "user:password" compared whole, or, with the header setting, the
// value of that header. Azure DevOps signs no body, so nothing else can be
// checked; an empty secret never matches.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	if c.header != "" {
		value, err := connectors.CredentialHeader(req.Header, c.header)
		if err != nil {
			return err
		}
		if value == "" {
			return fmt.Errorf("%w: the %s header is missing; add \"%s:<secret>\" to the HTTP headers of the service hook subscription", connectors.ErrUnauthorized, c.header, c.header)
		}
		if !schemes.TokenMatches(value, secrets) {
			return fmt.Errorf("%w: the %s header does not match the source's secret", connectors.ErrUnauthorized, c.header)
		}
		return nil
	}
	auth, err := connectors.CredentialHeader(req.Header, "Authorization")
	if err != nil {
		return err
	}
	if auth == "" {
		return fmt.Errorf("%w: the Authorization header is missing; set Basic authentication (user name and password) on the service hook subscription", connectors.ErrUnauthorized)
	}
	credentials, ok := schemes.BasicCredentials(auth)
	if !ok {
		return fmt.Errorf("%w: the Authorization header does not hold Basic credentials; set Basic authentication (user name and password) on the service hook subscription", connectors.ErrUnauthorized)
	}
	if !schemes.TokenMatches(credentials, secrets) {
		return fmt.Errorf("%w: the Basic credentials do not match the source's secret (user:password)", connectors.ErrUnauthorized)
	}
	return nil
}

// Sign sets the credentials a subscription sends: the configured header
// holding secret, or Basic credentials, secret being "user:password".
func (c *Connector) Sign(header http.Header, _, secret []byte) {
	if c.header != "" {
		header.Set(c.header, string(secret))
		return
	}
	header.Set("Authorization", schemes.BasicAuthorization(secret))
}

// Delivery returns the headers Azure DevOps sends and the payload with
// typ and id written into it: eventType, and the ids Parse takes the
// delivery id from. An id of Parse's "subscriptionId.notificationId" form
// is written back as those two fields; any other id becomes the event id,
// and notificationId is removed so that id is the delivery id. A payload
// that is not a JSON object is returned as it is.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", userAgent)
	return h, connectors.EditMembers(payload, func(doc map[string]json.RawMessage) {
		doc["eventType"] = connectors.JSONString(typ)
		if sub, n, ok := splitNotification(id); ok {
			doc["subscriptionId"], doc["notificationId"] = connectors.JSONString(sub), json.RawMessage(n)
			if _, has := doc["id"]; !has {
				doc["id"] = connectors.JSONString(id)
			}
		} else {
			doc["id"] = connectors.JSONString(id)
			delete(doc, "notificationId")
		}
	})
}

// splitNotification splits a delivery id of the form
// "subscriptionId.notificationId", the notification a whole number.
func splitNotification(id string) (sub, n string, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 || i == len(id)-1 {
		return "", "", false
	}
	sub, n = id[:i], id[i+1:]
	if v, err := strconv.ParseUint(n, 10, 64); err != nil || v == 0 || strconv.FormatUint(v, 10) != n {
		return "", "", false
	}
	return sub, n, true
}

// EventType returns the eventType of a recorded payload; Azure DevOps
// sends no event header.
func (*Connector) EventType(_ http.Header, payload []byte) string {
	var p struct {
		EventType string `json:"eventType"`
	}
	if decode(payload, &p) != nil {
		return ""
	}
	return p.EventType
}

var _ connectors.Simulator = (*Connector)(nil)
