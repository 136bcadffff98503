// Package sources keeps the table of webhook sources the intake serves:
// the live `source` objects, with their connectors and secrets resolved,
// reloaded whenever one changes.
package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/ratelimit"
	"github.com/reflexops/reflex/plan"
	"github.com/reflexops/reflex/state"
)

// ErrUnknown is returned for a name no source has.
var ErrUnknown = errors.New("no such source")

// entry is one source, or why it cannot serve.
type entry struct {
	source config.Source
	err    error
	// connector and settings are what its connector was configured
	// from: a reload that finds them unchanged keeps the connector, and
	// with it what the connector has fetched and cached (a provider's
	// published keys).
	connector string
	settings  any
}

// Set is the current table of sources. It is safe for concurrent use.
type Set struct {
	store *state.Store
	log   *slog.Logger
	local *config.Config
	refs  refPolicy
	table atomic.Pointer[map[string]entry]
}

// NewSet returns an empty set; Reload fills it. local is this server's own
// configuration, which resolves "config:N" secret references and whose
// own references are trusted; nil when there is none. refs limits the
// references of every other source.
func NewSet(store *state.Store, log *slog.Logger, local *config.Config, refs SecretRefs) *Set {
	s := &Set{store: store, log: log, local: local, refs: newRefPolicy(refs, local)}
	empty := map[string]entry{}
	s.table.Store(&empty)
	return s
}

// Lookup returns a source by name. A source whose secrets cannot be
// resolved on this server returns an error saying which one.
func (s *Set) Lookup(name string) (config.Source, error) {
	e, ok := (*s.table.Load())[name]
	if !ok {
		return config.Source{}, fmt.Errorf("%w %q", ErrUnknown, name)
	}
	return e.source, e.err
}

// Len returns how many sources there are.
func (s *Set) Len() int { return len(*s.table.Load()) }

// Reload reads every source object and resolves it: its connector, its
// secret references (resolved by this server: env:NAME from its
// environment, file:PATH from its files) and the literal secrets of its
// sensitive part.
func (s *Set) Reload(ctx context.Context) error {
	objs, err := s.store.Objects(ctx, state.TypeSource, "")
	if err != nil {
		return fmt.Errorf("load sources: %w", err)
	}
	prev := *s.table.Load()
	table := make(map[string]entry, len(objs))
	for _, o := range objs {
		name, _ := o.Content["connector"].(string)
		settings := o.Content["settings"]
		var keep connectors.Connector
		if p, ok := prev[o.Name]; ok && p.source.Connector != nil && p.connector == name && reflect.DeepEqual(p.settings, settings) {
			keep = p.source.Connector
		}
		src, err := s.resolve(o, keep)
		if err != nil {
			s.log.Error("source cannot verify deliveries", "source", o.Name, "error", err)
		}
		table[o.Name] = entry{source: src, err: err, connector: name, settings: settings}
	}
	s.table.Store(&table)
	return nil
}

// Check checks what a source object's schema cannot: that its connector
// exists and its settings are valid for that connector. It runs before
// every write (state.Options.Check); errors wrap state.ErrInvalid and name
// the field.
func Check(o *state.Object) error {
	if o.Type != state.TypeSource {
		return nil
	}
	if _, err := configure(o); err != nil {
		return fmt.Errorf("%w: %v", state.ErrInvalid, err)
	}
	return nil
}

// configure returns the connector of a source object, configured with its
// settings.
func configure(o *state.Object) (connectors.Connector, error) {
	name, _ := o.Content["connector"].(string)
	settings, _ := o.Content["settings"].(map[string]any)
	conn, err := registry.Configure(name, settings)
	switch {
	case err == nil:
		return conn, nil
	case !slices.Contains(registry.Names(), name):
		return nil, fmt.Errorf("field connector: %w", err)
	case strings.HasPrefix(err.Error(), "field "):
		return nil, err
	}
	// A connector's own check says "settings.<field>: …".
	return nil, fmt.Errorf("field %w", err)
}

// resolve resolves a source object: its connector (conn, when not nil,
// is the one its unchanged connector and settings configured before), its
// secrets and its confirmation password.
func (s *Set) resolve(o *state.Object, conn connectors.Connector) (config.Source, error) {
	src := config.Source{Name: o.Name}
	var err error
	if conn == nil {
		if conn, err = configure(o); err != nil {
			return src, err
		}
	}
	src.Connector = conn
	if v, _ := o.Content["max_body"].(string); v != "" {
		if src.MaxBody, err = config.ParseSize(v); err != nil {
			return src, fmt.Errorf("max_body: %w", err)
		}
	}
	if rl, ok := o.Content["rate_limit"].(map[string]any); ok {
		// The schema checked the numbers' kinds and ranges.
		perSecond, _ := rl["per_second"].(float64)
		burst, _ := rl["burst"].(float64)
		src.RateLimit = ratelimit.Rate{PerSecond: perSecond, Burst: int(burst)}
	}
	var sens map[string]any
	if o.HasSensitive() {
		if err := s.store.Reveal(o); err != nil {
			return src, fmt.Errorf("sealed secrets: %w", err)
		}
		sens, _ = o.Sensitive.(map[string]any)
	}
	// The confirmation password first: a worker confirms events with it
	// whether or not this server can resolve the webhook secrets, which
	// only the intake needs.
	if ref, _ := o.Content["confirm_password"].(string); ref != "" {
		pw, err := s.resolveRef(o.Name, ref)
		if err != nil {
			return src, fmt.Errorf("%w: %w", errConfirmPassword, err)
		}
		src.Confirm.Password = string(pw)
	}
	if pw, _ := sens["confirm_password"].(string); pw != "" {
		src.Confirm.Password = pw
	}
	for _, ref := range o.Strings("secrets") {
		secret, err := s.resolveRef(o.Name, ref)
		if err != nil {
			return src, err
		}
		src.Secrets = append(src.Secrets, secret)
	}
	lits, _ := sens["secrets"].([]any)
	for _, l := range lits {
		if v, ok := l.(string); ok && v != "" {
			src.Secrets = append(src.Secrets, []byte(v))
		}
	}
	if len(src.Secrets) == 0 && !config.HoldsKeys(conn) {
		return src, errors.New("no secret: an unsigned source would accept anyone's webhooks")
	}
	return src, nil
}

// resolveRef resolves one secret reference of a source: config:N from this
// server's configuration file, a reference that file itself declares for
// the source as config.ResolveSecret does, and any other only within the
// allowed references. Every failure is the same error, so a source's
// writer cannot probe the server's variables and files with it.
func (s *Set) resolveRef(source, ref string) ([]byte, error) {
	if ref == plan.ConfirmPasswordRef {
		if spec := s.localSpec(source); spec != nil && spec.ConfirmPassword != "" {
			if pw, err := config.ResolveSecret(spec.ConfirmPassword); err == nil {
				return pw, nil
			}
		}
		return nil, unresolvable(ref, s.refs)
	}
	if spec := s.localSpec(source); spec != nil && ref == spec.ConfirmPassword {
		if pw, err := config.ResolveSecret(ref); err == nil {
			return pw, nil
		}
		return nil, unresolvable(ref, s.refs)
	}
	if n, ok := strings.CutPrefix(ref, "config:"); ok {
		i, err := strconv.Atoi(n)
		if spec := s.localSpec(source); spec != nil && err == nil && i >= 0 && i < len(spec.Secrets) {
			if secret, err := config.ResolveSecret(spec.Secrets[i]); err == nil {
				return secret, nil
			}
		}
		return nil, unresolvable(ref, s.refs)
	}
	if spec := s.localSpec(source); spec != nil && slices.Contains(spec.Secrets, ref) {
		if secret, err := config.ResolveSecret(ref); err == nil {
			return secret, nil
		}
		return nil, unresolvable(ref, s.refs)
	}
	secret, ok := s.refs.resolve(ref)
	if !ok {
		return nil, unresolvable(ref, s.refs)
	}
	return secret, nil
}

// errConfirmPassword wraps a confirmation password that cannot be
// resolved.
var errConfirmPassword = errors.New("confirm_password")

// Confirm asks an event's provider whether it is true, when its source's
// connector confirms events (connectors.Confirmer) and its settings ask
// for it; nil, nil otherwise. The webhook secrets need not resolve here
// (a worker may not hold them); a connector or a confirmation password
// that cannot be resolved now is an error, so the event is asked about
// again rather than let through.
func (s *Set) Confirm(ctx context.Context, ev *event.Event) (*event.Confirmation, error) {
	src, err := s.Lookup(ev.Source)
	switch {
	case errors.Is(err, ErrUnknown):
		return nil, nil
	case src.Connector == nil, errors.Is(err, errConfirmPassword):
		return nil, err
	}
	c, ok := src.Connector.(connectors.Confirmer)
	if !ok {
		return nil, nil
	}
	return c.Confirm(ctx, ev, src.Confirm)
}

// localSpec returns this server's own declaration of a source, or nil.
func (s *Set) localSpec(source string) *config.SourceSpec {
	if s.local == nil {
		return nil
	}
	for i := range s.local.Sources {
		if s.local.Sources[i].Name == source {
			return &s.local.Sources[i]
		}
	}
	return nil
}

// Run reloads whenever a source changes, until ctx ends, and every 30
// seconds besides (a secret file may have been rotated).
func (s *Set) Run(ctx context.Context, hub *state.Hub) {
	hub.Follow(ctx, []string{state.TypeSource}, 30*time.Second, func(ctx context.Context) {
		if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cannot reload sources; the previous ones stay in force", "error", err)
		}
	})
}
