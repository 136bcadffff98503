package cloudevents_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/cloudevents"
)

func TestHandshake(t *testing.T) {
	anyOrigin := cloudevents.New()
	listed := configured(t, map[string]any{"allowed_origins": []any{"eventgrid.azure.net", "events.acme.example"}, "allowed_rate": 120})()
	options := func(headers ...string) *connectors.Request {
		h := http.Header{}
		for i := 0; i+1 < len(headers); i += 2 {
			h.Set(headers[i], headers[i+1])
		}
		return &connectors.Request{Source: "acme-cloudevents", Method: http.MethodOptions, Header: h}
	}
	tests := []struct {
		name       string
		conn       connectors.Connector
		req        *connectors.Request
		notClaimed bool
		want       error
		says       string
		origin     string // WebHook-Allowed-Origin
		rate       string // WebHook-Allowed-Rate
	}{
		{name: "any origin", conn: anyOrigin, req: options("WebHook-Request-Origin", "eventemitter.example.com"),
			origin: "eventemitter.example.com", rate: "*", says: "deliveries from eventemitter.example.com allowed at * requests per minute"},
		{name: "listed origin, any case", conn: listed, req: options("WebHook-Request-Origin", "EventGrid.Azure.net", "WebHook-Request-Rate", "600"),
			origin: "EventGrid.Azure.net", rate: "120"},
		{name: "origin not listed", conn: listed, req: options("WebHook-Request-Origin", "eventemitter.example.com"),
			want: connectors.ErrUnauthorized, says: "the origin eventemitter.example.com is not one this source allows (settings.allowed_origins)"},
		{name: "no origin", conn: anyOrigin, req: options("WebHook-Request-Rate", "10"),
			want: connectors.ErrMalformed, says: "the WebHook-Request-Origin header naming the sender is missing"},
		{name: "origin not a DNS name", conn: anyOrigin, req: options("WebHook-Request-Origin", "https://x.example/<script>"),
			want: connectors.ErrMalformed, says: "must be a DNS name"},
		{name: "rate not a number", conn: anyOrigin, req: options("WebHook-Request-Origin", "eventemitter.example.com", "WebHook-Request-Rate", "fast"),
			want: connectors.ErrMalformed, says: "WebHook-Request-Rate header must be a positive number"},
		{name: "callback not followed", conn: anyOrigin, req: options("WebHook-Request-Origin", "eventgrid.azure.net",
			"WebHook-Request-Callback", "https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/acme/validate?id=512d38b6&t=2026-01-02T03:04:05Z&apiVersion=2018-05-01-preview&token=1A1A1A1A"),
			origin: "eventgrid.azure.net", rate: "*", says: "the WebHook-Request-Callback URL was not called"},
		{name: "a POST is a delivery", conn: anyOrigin, req: func() *connectors.Request {
			r := options("WebHook-Request-Origin", "eventgrid.azure.net")
			r.Method = http.MethodPost
			return r
		}(), notClaimed: true},
		{name: "no method is a POST", conn: anyOrigin, req: func() *connectors.Request {
			r := options("WebHook-Request-Origin", "eventgrid.azure.net")
			r.Method = ""
			return r
		}(), notClaimed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, ok, err := tt.conn.(connectors.Handshaker).Handshake(context.Background(), tt.req, [][]byte{testSecret})
			if tt.notClaimed {
				if ok || err != nil || reply != nil {
					t.Fatalf("Handshake = %v, %v, %v; want a delivery left alone", reply, ok, err)
				}
				return
			}
			if tt.want != nil {
				if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
					t.Fatalf("Handshake error = %v, want %v saying %q", err, tt.want, tt.says)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("Handshake = %v, %v", ok, err)
			}
			if reply.Status != http.StatusOK {
				t.Errorf("status %d, want 200", reply.Status)
			}
			if got := reply.Header.Get("WebHook-Allowed-Origin"); got != tt.origin {
				t.Errorf("WebHook-Allowed-Origin = %q, want %q", got, tt.origin)
			}
			if got := reply.Header.Get("WebHook-Allowed-Rate"); got != tt.rate {
				t.Errorf("WebHook-Allowed-Rate = %q, want %q", got, tt.rate)
			}
			if got := reply.Header.Get("Allow"); !strings.Contains(got, "POST") {
				t.Errorf("Allow = %q, want POST in it", got)
			}
			if !strings.Contains(reply.Message, tt.says) {
				t.Errorf("message %q does not say %q", reply.Message, tt.says)
			}
			if strings.Contains(tt.req.Header.Get("WebHook-Request-Callback"), "token=") && strings.Contains(reply.Message, "token=") {
				t.Errorf("message echoes the callback URL: %q", reply.Message)
			}
		})
	}
}
