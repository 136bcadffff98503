package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/hookset"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// HooksCode serves /api/v1/hooks/plan and /apply: the webhooks sources
// declare, made so at the providers with this server's credentials.
type HooksCode struct {
	// Reconciler compares and applies; its Secret is set per request.
	Reconciler *hooks.Reconciler
	// Set reads the declarations and keeps their secrets.
	Set *hookset.Set
}

// errNoHooks answers a hooks request on a server without hooks settings.
var errNoHooks = Errorf(http.StatusNotImplemented, "this server has no hooks settings (hooks.public_url, and a provider's credentials for plans and applies, in its configuration); see docs/hooks.md")

// hooksRequest selects the sources a plan or apply covers; none means
// every source.
type hooksRequest struct {
	Sources []string `json:"sources"`
	// Since, Events and DryRun are a redelivery's: how far back, which
	// events ("push", "pull_request.opened"), and whether only to count.
	Since  string   `json:"since"`
	Events []string `json:"events"`
	DryRun bool     `json:"dry_run"`
}

// progressLine is one line of a streamed answer: a progress message, or
// at the end the result (or the error).
type progressLine struct {
	Progress string          `json:"progress,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// plan answers what an apply would change.
func (h *HooksCode) plan(c *gin.Context) {
	h.run(c, func(ctx context.Context, _ hooksRequest, decls []hooks.Declaration) (any, error) {
		// A source without a secret yet shows a secret to set; apply
		// makes it.
		r := h.readOnly()
		return r.Plan(ctx, decls)
	})
}

// apply makes the hooks as declared.
func (h *HooksCode) apply(c *gin.Context) {
	h.run(c, func(ctx context.Context, _ hooksRequest, decls []hooks.Declaration) (any, error) {
		r := *h.Reconciler
		r.Secret = func(ctx context.Context, source string) ([]byte, error) { return h.Set.Secret(ctx, source, true) }
		res, err := r.Apply(ctx, decls)
		auditHooks(c, res)
		if err != nil && res != nil {
			// The result says what was done and what failed.
			return res, nil
		}
		return res, err
	})
}

// auditHooks records the changes an apply made to providers' hooks, each
// named source@provider:target.
func auditHooks(c *gin.Context, res *hooks.Result) {
	if res == nil {
		return
	}
	for _, ch := range res.Applied {
		audited(c, ch.Op, "hook", ch.Source+"@"+ch.Target.Provider+":"+ch.Target.Name, 0)
	}
}

// run reads the request, and answers with fn's result: as one JSON
// document, or, when the caller accepts application/x-ndjson, as progress
// lines followed by the result.
func (h *HooksCode) run(c *gin.Context, fn func(context.Context, hooksRequest, []hooks.Declaration) (any, error)) {
	if h == nil || h.Reconciler == nil {
		fail(c, errNoHooks)
		return
	}
	var req hooksRequest
	if c.Request.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20)).Decode(&req); err != nil {
			fail(c, Errorf(http.StatusBadRequest, "the request is not {\"sources\": [...]}: %v", err))
			return
		}
	}
	ctx := c.Request.Context()
	decls, err := h.Set.Declarations(ctx, req.Sources...)
	if err != nil {
		fail(c, err)
		return
	}
	if missing := missingSources(decls, req.Sources); len(missing) > 0 {
		fail(c, Errorf(http.StatusNotFound, "no hooks are declared for source %s", strings.Join(missing, ", ")))
		return
	}
	if !strings.Contains(c.GetHeader("Accept"), "application/x-ndjson") {
		out, err := fn(ctx, req, decls)
		if errors.Is(err, hooks.ErrBusy) {
			fail(c, Errorf(http.StatusConflict, "%v", err))
			return
		}
		if err != nil {
			fail(c, Errorf(http.StatusBadGateway, "%v", err))
			return
		}
		writeJSON(c, http.StatusOK, out)
		return
	}
	c.Header("Content-Type", "application/x-ndjson")
	c.Status(http.StatusOK)
	enc := json.NewEncoder(c.Writer)
	line := func(l progressLine) {
		_ = enc.Encode(l)
		c.Writer.Flush()
	}
	ctx = hooks.WithProgress(ctx, func(format string, args ...any) { line(progressLine{Progress: fmt.Sprintf(format, args...)}) })
	out, err := fn(ctx, req, decls)
	if err != nil {
		line(progressLine{Error: err.Error()})
		return
	}
	raw, err := json.Marshal(out)
	if err != nil {
		line(progressLine{Error: err.Error()})
		return
	}
	line(progressLine{Result: raw})
}

// missingSources returns the asked sources that declare no hooks.
func missingSources(decls []hooks.Declaration, asked []string) []string {
	var missing []string
	for _, a := range asked {
		found := false
		for _, d := range decls {
			found = found || d.Source == a
		}
		if !found {
			missing = append(missing, a)
		}
	}
	return missing
}

// rotateRequest asks for a source's secret to be rotated.
type rotateRequest struct {
	Source string `json:"source"`
	// Grace is how long the old secrets keep verifying, e.g. "1h".
	Grace string `json:"grace"`
}

// DefaultGrace is how long rotated-out secrets keep verifying by default.
const DefaultGrace = time.Hour

// rotateAnswer is a rotation and the apply that gave the providers' hooks
// the new secret.
type rotateAnswer struct {
	Rotation *hookset.Rotation `json:"rotation"`
	Result   *hooks.Result     `json:"result"`
}

// rotate gives a source a new secret, updates every hook of the source
// to it, and retires the old ones after the grace period: deliveries
// signed with either verify until then.
func (h *HooksCode) rotate(c *gin.Context) {
	var req rotateRequest
	if err := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20)).Decode(&req); err != nil || req.Source == "" {
		fail(c, Errorf(http.StatusBadRequest, "the request is not {\"source\": \"...\", \"grace\": \"1h\"}"))
		return
	}
	grace := DefaultGrace
	if req.Grace != "" {
		d, err := time.ParseDuration(req.Grace)
		if err != nil || d < 0 || d > 30*24*time.Hour {
			fail(c, Errorf(http.StatusBadRequest, "grace %q is not a duration between 0s and 720h", req.Grace))
			return
		}
		grace = d
	}
	if h == nil || h.Reconciler == nil {
		fail(c, errNoHooks)
		return
	}
	ctx := c.Request.Context()
	decls, err := h.Set.Declarations(ctx, req.Source)
	if err != nil {
		fail(c, err)
		return
	}
	if len(decls) == 0 {
		fail(c, Errorf(http.StatusNotFound, "no hooks are declared for source %s", req.Source))
		return
	}
	rot, err := h.Set.Rotate(ctx, req.Source, grace, time.Now())
	if err != nil {
		fail(c, Errorf(http.StatusConflict, "%v", err))
		return
	}
	audited(c, "rotate-secret", state.TypeSource, req.Source, 0)
	r := *h.Reconciler
	r.Secret = func(ctx context.Context, source string) ([]byte, error) { return h.Set.Secret(ctx, source, true) }
	res, err := r.Apply(ctx, decls)
	auditHooks(c, res)
	if err != nil && res == nil {
		fail(c, Errorf(http.StatusBadGateway, "the new secret is kept, and both verify; updating the hooks failed: %v", err))
		return
	}
	writeJSON(c, http.StatusOK, rotateAnswer{Rotation: rot, Result: res})
}

// DefaultRedeliverSince is how far back a redelivery looks by default.
const DefaultRedeliverSince = 6 * time.Hour

// redeliver asks the providers to deliver again what failed to arrive
// since a time and Reflex never accepted.
func (h *HooksCode) redeliver(c *gin.Context) {
	h.run(c, func(ctx context.Context, req hooksRequest, decls []hooks.Declaration) (any, error) {
		since := DefaultRedeliverSince
		if req.Since != "" {
			d, err := time.ParseDuration(req.Since)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("since %q is not a duration such as 6h", req.Since)
			}
			since = d
		}
		r := h.readOnly()
		res, err := r.Recover(ctx, decls, hooks.RecoverOptions{
			Since: time.Now().Add(-since), Events: req.Events, DryRun: req.DryRun, Accepted: h.Set.Accepted,
		})
		if !req.DryRun {
			for _, d := range decls {
				audited(c, "redeliver", state.TypeSource, d.Source, 0)
			}
		}
		return res, err
	})
}

// Recover is the background reconciler's round: it asks the providers to
// deliver again what failed to arrive since a time, and logs a summary.
// A round another replica is running is skipped.
func (h *HooksCode) Recover(ctx context.Context, since time.Duration, events []string, log *slog.Logger) {
	decls, err := h.Set.Declarations(ctx)
	if err != nil || len(decls) == 0 {
		if err != nil {
			log.Warn("redelivery: cannot read the declared hooks", "error", err)
		}
		return
	}
	r := h.readOnly()
	sum, err := r.Recover(ctx, decls, hooks.RecoverOptions{Since: time.Now().Add(-since), Events: events, Accepted: h.Set.Accepted})
	switch {
	case errors.Is(err, hooks.ErrBusy):
		log.Debug("redelivery: another replica is running it")
	case err != nil:
		log.Warn("redelivery failed", "error", err)
	case sum.Redelivered > 0 || sum.Failed > 0 || len(sum.Errors) > 0:
		log.Info("redelivery", "hooks", sum.Hooks, "found", sum.Found, "present", sum.Present, "redelivered", sum.Redelivered, "failed", sum.Failed, "errors", len(sum.Errors))
	}
}

// readOnly returns a reconciler for requests that create nothing: a
// source without a secret yet has none to show.
func (h *HooksCode) readOnly() hooks.Reconciler {
	r := *h.Reconciler
	r.Secret = func(ctx context.Context, source string) ([]byte, error) {
		s, err := h.Set.Secret(ctx, source, false)
		if errors.Is(err, hookset.ErrNoSecret) {
			return nil, nil
		}
		return s, err
	}
	return r
}

// list answers this Reflex's hooks at the declared targets, with their
// last delivery's status.
func (h *HooksCode) list(c *gin.Context) {
	h.run(c, func(ctx context.Context, _ hooksRequest, decls []hooks.Declaration) (any, error) {
		r := h.readOnly()
		listed, err := r.Hooks(ctx, decls)
		if listed == nil {
			listed = []hooks.Listed{}
		}
		return listed, err
	})
}

// ping asks the providers for a test delivery of each hook.
func (h *HooksCode) ping(c *gin.Context) {
	h.run(c, func(ctx context.Context, _ hooksRequest, decls []hooks.Declaration) (any, error) {
		r := h.readOnly()
		return r.Ping(ctx, decls)
	})
}

// setupAnswer says how to configure a source's webhook at its provider by
// hand, for providers without a hook API (Docker Hub) or a source that
// declares no hooks.
type setupAnswer struct {
	Source    string `json:"source"`
	Connector string `json:"connector"`
	Provider  string `json:"provider"`
	URL       string `json:"url"`
	// Token is true when the URL ends in the source's secret, which
	// the provider needs since it signs nothing.
	Token  bool     `json:"token"`
	Setup  string   `json:"setup"`
	Events []string `json:"events"`
}

// setup answers the URL (with its token, for a provider that can only be
// given a URL) and the setup steps of a source's webhook. Only a caller
// allowed to read the source's sensitive part gets a URL with a token.
func (h *HooksCode) setup(authz policies.Authorizer) gin.HandlerFunc {
	return func(c *gin.Context) {
		if h == nil || h.Reconciler == nil {
			fail(c, errNoHooks)
			return
		}
		name := c.Param("source")
		ctx := c.Request.Context()
		o, err := h.Set.Store.Object(ctx, state.TypeSource, name, 0)
		if err != nil {
			fail(c, err)
			return
		}
		src, err := h.Set.Sources.Lookup(name)
		if err != nil {
			fail(c, Errorf(http.StatusConflict, "source %q cannot serve on this server (see its log)", name))
			return
		}
		ans := setupAnswer{Source: name, Connector: src.Connector.Name(), URL: strings.TrimRight(h.Reconciler.PublicURL, "/") + "/hooks/" + name}
		if d, ok := src.Connector.(connectors.Describer); ok {
			desc := d.Describe()
			ans.Provider, ans.Setup = desc.Provider, desc.Setup
			for _, e := range desc.Events {
				ans.Events = append(ans.Events, e.Type)
			}
		}
		if t, ok := src.Connector.(connectors.PathTokenTaker); ok && t.TakesPathToken() && len(src.Secrets) > 0 {
			d := authz.Authorize(ctx, policies.Request{Caller: callerOf(c), Action: policies.ActionRead, Type: state.TypeSource, Name: name, Object: o, Sensitive: true})
			if !d.Allowed {
				fail(c, &Error{Status: http.StatusForbidden, Message: "the URL holds the source's secret, which this key may not read: " + d.Reason})
				return
			}
			ans.URL += "/" + url.PathEscape(string(src.Secrets[len(src.Secrets)-1]))
			ans.Token = true
		}
		writeJSON(c, http.StatusOK, ans)
	}
}
