package handlers

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/connectors"
)

// The reasons a delivery is refused, as logged ("refused") and counted.
// They are few and fixed, so the count's labels stay bounded whatever a
// sender posts.
const (
	reasonUnknownSource = "unknown_source"
	reasonUnavailable   = "source_unavailable"
	reasonTooLarge      = "too_large"
	reasonBusy          = "busy"
	reasonUnreadable    = "unreadable"
	reasonMethod        = "method"
	reasonUnauthorized  = "unauthorized"
	reasonStale         = "stale_timestamp"
	reasonMediaType     = "unsupported_media_type"
	reasonMalformed     = "malformed"
	reasonPolicy        = "policy"
	reasonKeys          = "keys_unavailable"
)

// newRefusals returns the counter of refused deliveries, registered with
// reg when not nil. An unknown source is counted with an empty source
// label, since anyone can post to any name.
func newRefusals(reg prometheus.Registerer) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "reflex_webhook_refusals_total",
		Help: "Webhook deliveries refused, by source, connector and reason.",
	}, []string{"source", "connector", "reason"})
	if reg != nil {
		reg.MustRegister(v)
	}
	return v
}

// reasonOf names why err refused a delivery.
func reasonOf(err error) string {
	var he *Error
	switch {
	case errors.Is(err, connectors.ErrStale):
		return reasonStale
	case errors.Is(err, connectors.ErrUnauthorized):
		return reasonUnauthorized
	case errors.Is(err, connectors.ErrUnavailable):
		return reasonKeys
	case errors.Is(err, connectors.ErrUnsupportedMediaType):
		return reasonMediaType
	case errors.Is(err, connectors.ErrMalformed):
		return reasonMalformed
	case errors.As(err, &he) && he.Status == http.StatusRequestEntityTooLarge:
		return reasonTooLarge
	case errors.As(err, &he) && he.Status == http.StatusServiceUnavailable:
		return reasonBusy
	}
	return reasonUnreadable
}
