package gitlab

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/hooks"
)

// TestDeliveriesAndResend: a hook's webhook events are read over two
// pages, as deliveries with the id the gitlab connector takes (the
// Idempotency-Key, else the event UUID), the event without "_hooks", and
// the status Reflex answered; events before the bound are left out; a
// resend posts to the event's resend path.
func TestDeliveriesAndResend(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(Options{})
	now := time.Now().UTC().Truncate(time.Second)
	at := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }
	events := "GET /api/v4/" + apiScope + "/hooks/7/events"
	f.answerOnce(events, canned{status: 200, header: map[string]string{"X-Next-Page": "2", "Content-Type": "application/json"}, body: `[
		{"id": 31, "trigger": "push_hooks", "response_status": "internal error", "created_at": "` + at(time.Minute) + `",
		 "request_headers": {"Idempotency-Key": "a1b2-c3", "X-Gitlab-Event-UUID": "uuid-1", "X-Gitlab-Event": "Push Hook"}},
		{"id": 30, "trigger": "merge_request_hooks", "response_status": "202", "created_at": "` + at(2*time.Minute) + `",
		 "request_headers": {"x-gitlab-event-uuid": "uuid-2"}}]`})
	f.answerOnce(events, canned{status: 200, header: map[string]string{"Content-Type": "application/json"}, body: `[
		{"id": 12, "trigger": "push_hooks", "response_status": "503", "created_at": "` + at(48*time.Hour) + `",
		 "request_headers": {"Idempotency-Key": "old"}}]`})
	ds, err := p.Deliveries(t.Context(), apiProject, "7", now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []hooks.Delivery{
		{ID: "31", GUID: "a1b2-c3", Event: "push", StatusCode: 0, At: now.Add(-time.Minute)},
		{ID: "30", GUID: "uuid-2", Event: "merge_request", StatusCode: 202, At: now.Add(-2 * time.Minute)},
	}
	if !slices.EqualFunc(ds, want, func(a, b hooks.Delivery) bool { return a == b }) {
		t.Fatalf("deliveries %+v, want %+v", ds, want)
	}
	if !ds[0].Failed() || ds[1].Failed() {
		t.Errorf("failed: %v, %v", ds[0].Failed(), ds[1].Failed())
	}
	resend := "POST /api/v4/" + apiScope + "/hooks/7/events/31/resend"
	f.answerOnce(resend, canned{status: 201, body: `{"response_status": "202"}`})
	if err := p.Redeliver(t.Context(), apiProject, "7", ds[0]); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.requests(), "\n"); !strings.Contains(got, resend) || !strings.Contains(got, "per_page=100") {
		t.Errorf("requests:\n%s", got)
	}
	if err := p.Redeliver(t.Context(), apiProject, "7", hooks.Delivery{ID: "31/../../x"}); err == nil {
		t.Error("a delivery id that is not a number was sent")
	}
}
