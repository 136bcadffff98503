package hooks

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Ledger remembers what Reflex set at the providers (a fingerprint of
// each hook's secret, which no provider shows) and serializes the applies
// of one target, so that two applies at once, or replicas reconciling
// together, never create a hook twice.
type Ledger interface {
	// Fingerprint returns the fingerprint of the secret Reflex last gave
	// a hook; "" when it gave none.
	Fingerprint(ctx context.Context, t Target, hookID string) (string, error)
	// SetFingerprint records the fingerprint of the secret a hook was
	// given.
	SetFingerprint(ctx context.Context, t Target, hookID, fp string) error
	// Forget drops a deleted hook's record.
	Forget(ctx context.Context, t Target, hookID string) error
	// Targets returns the targets where Reflex has made hooks, so that a
	// target no source declares any more is still compared, and its
	// hooks deleted.
	Targets(ctx context.Context) ([]Target, error)
	// Lock takes the target's lock, waiting while another apply holds
	// it, and returns what releases it.
	Lock(ctx context.Context, t Target) (release func(), err error)
}

// Result is what an apply did.
type Result struct {
	// Applied are the changes made.
	Applied []Change `json:"applied"`
	// Failed are the changes that failed, each with its error.
	Failed []Failure `json:"failed,omitempty"`
	// Targets counts the targets compared.
	Targets int `json:"targets"`
	// Unchanged counts the declared hooks that were as declared.
	Unchanged int `json:"unchanged"`
}

// Failure is a change that could not be made.
type Failure struct {
	Change Change `json:"change"`
	Error  string `json:"error"`
}

// Apply makes the providers' hooks as the declarations say, target by
// target: under the target's lock it lists the hooks again and makes only
// the changes still needed, so a second apply changes nothing and two at
// once create nothing twice. A target that fails does not stop the
// others; the error lists every failure.
func (r *Reconciler) Apply(ctx context.Context, decls []Declaration) (*Result, error) {
	wants, err := r.wants(ctx, decls)
	if err != nil {
		return nil, err
	}
	res := &Result{Targets: len(wants)}
	var errs []error
	for i, w := range wants {
		Report(ctx, "[%d/%d] %s", i+1, len(wants), w.target)
		if err := r.applyTarget(ctx, w, res); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return res, errors.Join(errs...)
}

// applyTarget makes one target's hooks as wanted, under its lock.
func (r *Reconciler) applyTarget(ctx context.Context, w *want, res *Result) error {
	release, err := r.Ledger.Lock(ctx, w.target)
	if err != nil {
		return fmt.Errorf("%s: %w", w.target, err)
	}
	defer release()
	changes, unchanged, err := r.compare(ctx, w)
	if err != nil {
		return err
	}
	res.Unchanged += unchanged
	var errs []error
	for _, c := range changes {
		if err := r.make(ctx, &c); err != nil {
			res.Failed = append(res.Failed, Failure{Change: c, Error: err.Error()})
			errs = append(errs, fmt.Errorf("%s: %s the hook of source %s: %w", c.Target, c.Op, c.Source, err))
			continue
		}
		res.Applied = append(res.Applied, c)
		Report(ctx, "%s: %sd the hook of source %s", c.Target, c.Op, c.Source)
	}
	return errors.Join(errs...)
}

// make makes one change at its provider and records it in the ledger.
func (r *Reconciler) make(ctx context.Context, c *Change) error {
	p := r.Providers[c.Target.Provider]
	switch c.Op {
	case "create":
		h, err := p.Create(ctx, c.Target, c.spec)
		if err != nil {
			return err
		}
		c.HookID = h.ID
		return r.Ledger.SetFingerprint(ctx, c.Target, h.ID, Fingerprint(c.spec.Secret))
	case "update":
		if rp, ok := p.(Replacer); ok && slices.Contains(c.Fields, "secret") {
			h, err := rp.Replace(ctx, c.Target, c.HookID, c.spec)
			if err != nil {
				return err
			}
			if err := r.Ledger.Forget(ctx, c.Target, c.HookID); err != nil {
				return err
			}
			c.HookID = h.ID
			return r.Ledger.SetFingerprint(ctx, c.Target, h.ID, Fingerprint(c.spec.Secret))
		}
		if err := p.Update(ctx, c.Target, c.HookID, c.spec); err != nil {
			return err
		}
		return r.Ledger.SetFingerprint(ctx, c.Target, c.HookID, Fingerprint(c.spec.Secret))
	case "delete":
		if err := p.Delete(ctx, c.Target, c.HookID); err != nil {
			return err
		}
		return r.Ledger.Forget(ctx, c.Target, c.HookID)
	}
	return fmt.Errorf("unknown change %q", c.Op)
}
