package github

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/reflexops/reflex/hooks"
)

// Deliveries returns hook id's deliveries since a time, newest first:
// GET …/hooks/{id}/deliveries, 100 a page, following the cursor of each
// page's Link header until a delivery older than since shows (GitHub
// lists the newest first) or the pages end.
func (p *Provider) Deliveries(ctx context.Context, t hooks.Target, id string, since time.Time) ([]hooks.Delivery, error) {
	what := "list the deliveries of hook " + id
	hookID, err := parseID("hook", id)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", t, what, err)
	}
	c, err := p.clientFor(ctx, t)
	if err != nil {
		return nil, err
	}
	owner, repo, _ := strings.Cut(t.Name, "/")
	opt := &github.ListCursorOptions{PerPage: 100}
	var out []hooks.Delivery
	seen := map[string]bool{}
	for page := 1; ; page++ {
		var ds []*github.HookDelivery
		var resp *github.Response
		err := p.call(ctx, t.String()+": "+what, func() (*github.Response, error) {
			var err error
			if t.Kind == hooks.KindOrganization {
				ds, resp, err = c.Organizations.ListHookDeliveries(ctx, owner, hookID, opt)
			} else {
				ds, resp, err = c.Repositories.ListHookDeliveries(ctx, owner, repo, hookID, opt)
			}
			return resp, err
		})
		if err != nil {
			return nil, p.explain(err, t, what)
		}
		for _, d := range ds {
			at := d.GetDeliveredAt().Time
			if at.Before(since) {
				return out, nil
			}
			out = append(out, hooks.Delivery{
				ID:         strconv.FormatInt(d.GetID(), 10),
				GUID:       d.GetGUID(),
				Event:      d.GetEvent(),
				Action:     d.GetAction(),
				StatusCode: d.GetStatusCode(),
				Redelivery: d.GetRedelivery(),
				At:         at,
			})
		}
		if resp.Cursor == "" || seen[resp.Cursor] {
			return out, nil
		}
		seen[resp.Cursor] = true
		opt.Cursor = resp.Cursor
		hooks.Report(ctx, "%s: deliveries of hook %s, page %d", t, id, page+1)
	}
}

// Redeliver asks GitHub to deliver d again: POST
// …/hooks/{id}/deliveries/{delivery id}/attempts, which GitHub accepts
// (202) and makes later.
func (p *Provider) Redeliver(ctx context.Context, t hooks.Target, id string, d hooks.Delivery) error {
	what := "redeliver delivery " + d.ID + " of hook " + id
	hookID, err := parseID("hook", id)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", t, what, err)
	}
	deliveryID, err := parseID("delivery", d.ID)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", t, what, err)
	}
	c, err := p.clientFor(ctx, t)
	if err != nil {
		return err
	}
	owner, repo, _ := strings.Cut(t.Name, "/")
	err = p.call(ctx, t.String()+": "+what, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		if t.Kind == hooks.KindOrganization {
			_, resp, err = c.Organizations.RedeliverHookDelivery(ctx, owner, hookID, deliveryID)
		} else {
			_, resp, err = c.Repositories.RedeliverHookDelivery(ctx, owner, repo, hookID, deliveryID)
		}
		return resp, err
	})
	var accepted *github.AcceptedError
	if err == nil || errors.As(err, &accepted) {
		return nil
	}
	return p.explain(err, t, what)
}
