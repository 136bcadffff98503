package hooks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RecoverOptions say which missed deliveries to ask for again.
type RecoverOptions struct {
	// Since is how far back deliveries are looked at.
	Since time.Time
	// Events, when set, limits recovery to these event types, each as
	// "event" or "event.action" (GitHub's): a repository can hold
	// thousands of failed deliveries of which few matter.
	Events []string
	// DryRun counts what would be redelivered and asks for nothing.
	DryRun bool
	// Accepted reports whether Reflex holds a source's delivery id: a
	// failed delivery it holds (a provider's retry got through) is not
	// asked for again.
	Accepted func(ctx context.Context, source, deliveryID string) (bool, error)
}

// RecoverSummary is what a recovery found and did.
type RecoverSummary struct {
	// Hooks counts the hooks whose deliveries were listed.
	Hooks int `json:"hooks"`
	// Found counts the failed deliveries the filter keeps, one per
	// delivery id (a provider lists each attempt).
	Found int `json:"found"`
	// Present counts those Reflex holds already, or that a later attempt
	// delivered.
	Present int `json:"present"`
	// Redelivered counts those asked for again (with DryRun, that would
	// be).
	Redelivered int `json:"redelivered"`
	// Failed counts the redeliveries the provider refused.
	Failed int `json:"failed"`
	// DryRun is true when nothing was asked for.
	DryRun bool `json:"dry_run,omitempty"`
	// Errors lists what went wrong, hook by hook.
	Errors []string `json:"errors,omitempty"`
}

// recoverLock is the target of the lock that keeps recoveries one at a
// time across replicas.
var recoverLock = Target{Provider: "reflex", Kind: "recover", Name: "deliveries"}

// ErrBusy is returned by Recover when another recovery is running.
var ErrBusy = errors.New("another recovery of missed deliveries is running")

// Recover finds, for every hook of this Reflex at the declared targets
// whose provider lists deliveries (GitHub), the deliveries that failed
// since opts.Since and that Reflex never accepted, and asks the provider
// to deliver them again; the intake's de-duplication makes a redelivery
// of something accepted meanwhile harmless. One recovery runs at a time
// across replicas: another gets ErrBusy.
func (r *Reconciler) Recover(ctx context.Context, decls []Declaration, opts RecoverOptions) (*RecoverSummary, error) {
	release, err := r.tryLock(ctx, recoverLock)
	if err != nil {
		return nil, err
	}
	defer release()
	wants, err := r.wants(ctx, decls)
	if err != nil {
		return nil, err
	}
	sum := &RecoverSummary{DryRun: opts.DryRun}
	for _, w := range wants {
		p := r.Providers[w.target.Provider]
		rd, ok := p.(Redeliverer)
		if !ok {
			continue
		}
		hooks, err := p.List(ctx, w.target)
		if err != nil {
			sum.Errors = append(sum.Errors, fmt.Sprintf("%s: list hooks: %v", w.target, err))
			continue
		}
		for _, h := range hooks {
			source, ours := r.sourceOf(h.URL)
			if !ours {
				continue
			}
			sum.Hooks++
			if err := r.recoverHook(ctx, rd, w.target, h, source, opts, sum); err != nil {
				sum.Errors = append(sum.Errors, fmt.Sprintf("%s: hook %s: %v", w.target, h.ID, err))
			}
		}
	}
	return sum, nil
}

// recoverHook recovers one hook's missed deliveries.
func (r *Reconciler) recoverHook(ctx context.Context, rd Redeliverer, t Target, h Hook, source string, opts RecoverOptions, sum *RecoverSummary) error {
	Report(ctx, "%s: listing the deliveries of hook %s", t, h.ID)
	ds, err := rd.Deliveries(ctx, t, h.ID, opts.Since)
	if err != nil {
		return fmt.Errorf("list deliveries: %w", err)
	}
	// Every attempt of one delivery id, the latest first.
	attempts := map[string][]Delivery{}
	var order []string
	for _, d := range ds {
		if d.At.Before(opts.Since) || d.GUID == "" {
			continue
		}
		if _, seen := attempts[d.GUID]; !seen {
			order = append(order, d.GUID)
		}
		attempts[d.GUID] = append(attempts[d.GUID], d)
	}
	for _, guid := range order {
		list := attempts[guid]
		slices.SortFunc(list, func(a, b Delivery) int { return b.At.Compare(a.At) })
		if !slices.ContainsFunc(list, Delivery.Failed) || !wanted(list[0], opts.Events) {
			continue
		}
		sum.Found++
		if slices.ContainsFunc(list, func(d Delivery) bool { return !d.Failed() }) {
			sum.Present++
			continue
		}
		if opts.Accepted != nil {
			held, err := opts.Accepted(ctx, source, guid)
			if err != nil {
				return fmt.Errorf("look up delivery %s: %w", guid, err)
			}
			if held {
				sum.Present++
				continue
			}
		}
		sum.Redelivered++
		if opts.DryRun {
			continue
		}
		if err := rd.Redeliver(ctx, t, h.ID, list[0]); err != nil {
			sum.Redelivered--
			sum.Failed++
			sum.Errors = append(sum.Errors, fmt.Sprintf("%s: redeliver %s: %v", t, guid, err))
			continue
		}
		Report(ctx, "%s: asked for delivery %s (%s) again", t, guid, list[0].Event)
	}
	return nil
}

// wanted reports whether a delivery's event passes the filter.
func wanted(d Delivery, events []string) bool {
	if len(events) == 0 {
		return true
	}
	for _, e := range events {
		typ, action, hasAction := strings.Cut(e, ".")
		if typ == d.Event && (!hasAction || action == d.Action) {
			return true
		}
	}
	return false
}

// TryLocker is implemented by ledgers that can take a lock without
// waiting for it.
type TryLocker interface {
	// TryLock takes the target's lock if it is free, and reports
	// whether it did.
	TryLock(ctx context.Context, t Target) (release func(), ok bool, err error)
}

// tryLock takes a lock without waiting (ErrBusy while another holds it),
// or, with a ledger that cannot, waiting.
func (r *Reconciler) tryLock(ctx context.Context, t Target) (func(), error) {
	if tl, ok := r.Ledger.(TryLocker); ok {
		release, ok, err := tl.TryLock(ctx, t)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrBusy
		}
		return release, nil
	}
	return r.Ledger.Lock(ctx, t)
}
