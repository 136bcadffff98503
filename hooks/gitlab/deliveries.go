package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/hooks"
)

// apiEvent is a webhook event (one delivery attempt) as GitLab's API
// lists it (GET …/hooks/:hook_id/events): the last seven days'.
type apiEvent struct {
	ID             int64             `json:"id"`
	Trigger        string            `json:"trigger"`
	RequestHeaders map[string]string `json:"request_headers"`
	ResponseStatus string            `json:"response_status"`
	CreatedAt      time.Time         `json:"created_at"`
}

// Deliveries returns hook id's delivery attempts since a time, every
// page of them (GitLab keeps seven days'). A delivery's id is the one
// the gitlab connector takes: its Idempotency-Key, else its
// X-Gitlab-Event-UUID. Its event is the trigger without "_hooks" (so
// "push_hooks" is "push", as hooks are declared); its status the HTTP
// status Reflex answered, 0 when GitLab could not reach it.
func (p *Provider) Deliveries(ctx context.Context, t hooks.Target, id string, since time.Time) ([]hooks.Delivery, error) {
	path, err := p.hookPath(t, id)
	if err != nil {
		return nil, err
	}
	var out []hooks.Delivery
	err = p.each(ctx, t.String()+": hook "+id+" events", path+"/events", nil, func(raw json.RawMessage) error {
		var e apiEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("read a webhook event: %w", err)
		}
		if e.CreatedAt.Before(since) {
			return nil
		}
		status, _ := strconv.Atoi(strings.TrimSpace(e.ResponseStatus))
		out = append(out, hooks.Delivery{
			ID:         strconv.FormatInt(e.ID, 10),
			GUID:       header(e.RequestHeaders, "Idempotency-Key", "X-Gitlab-Event-UUID"),
			Event:      strings.TrimSuffix(e.Trigger, "_hooks"),
			StatusCode: status,
			At:         e.CreatedAt,
		})
		return nil
	})
	if err != nil {
		return nil, p.targetError(t, "list hook "+id+"'s events", err)
	}
	return out, nil
}

// Redeliver asks GitLab to send a webhook event again, with the same
// Idempotency-Key (POST …/events/:hook_event_id/resend).
func (p *Provider) Redeliver(ctx context.Context, t hooks.Target, id string, d hooks.Delivery) error {
	path, err := p.hookPath(t, id)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseInt(d.ID, 10, 64); err != nil {
		return fmt.Errorf("%s: webhook event id %q is not a number", t, d.ID)
	}
	if _, err := p.do(ctx, http.MethodPost, p.apiURL(path+"/events/"+d.ID+"/resend", nil), nil, nil, nil); err != nil {
		return p.targetError(t, "resend hook "+id+"'s event "+d.ID, err)
	}
	return nil
}

// header returns the first of names a request's headers hold, whatever
// their case.
func header(h map[string]string, names ...string) string {
	for _, name := range names {
		for k, v := range h {
			if strings.EqualFold(k, name) && v != "" {
				return v
			}
		}
	}
	return ""
}

var _ hooks.Redeliverer = (*Provider)(nil)
