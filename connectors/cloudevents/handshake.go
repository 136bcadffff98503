package cloudevents

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/reflexops/reflex/connectors"
)

// The headers of the webhook profile's abuse-protection handshake.
const (
	HeaderRequestCallback = "WebHook-Request-Callback"
	HeaderRequestRate     = "WebHook-Request-Rate"
	HeaderAllowedOrigin   = "WebHook-Allowed-Origin"
	HeaderAllowedRate     = "WebHook-Allowed-Rate"
)

// maxOrigin bounds WebHook-Request-Origin, a DNS name.
const maxOrigin = 253

// Handshake answers the webhook profile's validation request: an OPTIONS
// request naming the sender in WebHook-Request-Origin is granted, when
// the origin is allowed, with WebHook-Allowed-Origin and
// WebHook-Allowed-Rate. The answer is synchronous: a
// WebHook-Request-Callback URL is never called, since that would let
// anyone make Reflex request a URL of their choosing. Any other method is
// not a handshake.
//
// The handshake is no authentication (the specification says so): it lets
// the sender know the target expects its deliveries, each of which must
// still pass Verify. So any origin is allowed unless the allowed_origins
// setting lists some.
func (c *Connector) Handshake(_ context.Context, req *connectors.Request, _ [][]byte) (*connectors.Reply, bool, error) {
	if req.Method != http.MethodOptions {
		return nil, false, nil
	}
	origin := req.Header.Get(HeaderOrigin)
	if origin == "" {
		return nil, true, fmt.Errorf("%w: an OPTIONS request here is the CloudEvents webhook validation handshake, and the %s header naming the sender is missing", connectors.ErrMalformed, HeaderOrigin)
	}
	if !validOrigin(origin) {
		return nil, true, fmt.Errorf("%w: the %s header must be a DNS name such as eventemitter.example.com", connectors.ErrMalformed, HeaderOrigin)
	}
	if !c.allowsOrigin(origin) {
		return nil, true, fmt.Errorf("%w: the origin %s is not one this source allows (settings.allowed_origins)", connectors.ErrUnauthorized, origin)
	}
	if rate := req.Header.Get(HeaderRequestRate); rate != "" {
		if n, err := strconv.Atoi(rate); err != nil || n < 1 {
			return nil, true, fmt.Errorf("%w: the %s header must be a positive number of requests per minute", connectors.ErrMalformed, HeaderRequestRate)
		}
	}
	allowedRate := "*"
	if c.rate > 0 {
		allowedRate = strconv.Itoa(c.rate)
	}
	h := http.Header{}
	h.Set(HeaderAllowedOrigin, origin)
	h.Set(HeaderAllowedRate, allowedRate)
	h.Set("Allow", "POST, OPTIONS")
	msg := fmt.Sprintf("deliveries from %s allowed at %s requests per minute", origin, allowedRate)
	if req.Header.Get(HeaderRequestCallback) != "" {
		msg += "; permission is granted in this answer's headers and the " + HeaderRequestCallback + " URL was not called (Reflex calls no URL a sender supplies)"
	}
	return &connectors.Reply{Status: http.StatusOK, Header: h, Message: msg}, true, nil
}

// allowsOrigin reports whether the settings allow origin: any when they
// list none.
func (c *Connector) allowsOrigin(origin string) bool {
	if len(c.origins) == 0 {
		return true
	}
	for _, o := range c.origins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// validOrigin accepts the DNS names (with a port) WebHook-Request-Origin
// holds.
func validOrigin(origin string) bool {
	return origin != "" && len(origin) <= maxOrigin && !strings.ContainsFunc(origin, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == ':')
	})
}

var _ connectors.Handshaker = (*Connector)(nil)
