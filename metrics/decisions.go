package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/policies"
)

// Decisions is a policies.Authorizer that counts every decision of the
// one it wraps, by action and outcome (allowed or denied).
type Decisions struct {
	policies.Authorizer
	count *prometheus.CounterVec
}

// CountDecisions returns authz counting its decisions in
// reflex_policy_decisions_total, registered with reg.
func CountDecisions(authz policies.Authorizer, reg prometheus.Registerer) *Decisions {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "reflex_policy_decisions_total",
		Help: "Policy decisions, by action (receive, deliver, read, write, take…) and outcome (allowed, denied).",
	}, []string{"action", "outcome"})
	reg.MustRegister(v)
	return &Decisions{Authorizer: authz, count: v}
}

// Authorize implements policies.Authorizer.
func (d *Decisions) Authorize(ctx context.Context, r policies.Request) policies.Decision {
	dec := d.Authorizer.Authorize(ctx, r)
	outcome := "denied"
	if dec.Allowed {
		outcome = "allowed"
	}
	d.count.WithLabelValues(string(r.Action), outcome).Inc()
	return dec
}

// Sync catches the wrapped authorizer up with the change stream, when it
// can (the policy engine); otherwise it does nothing.
func (d *Decisions) Sync(ctx context.Context, id string) error {
	if s, ok := d.Authorizer.(interface {
		Sync(context.Context, string) error
	}); ok {
		return s.Sync(ctx, id)
	}
	return nil
}
