package github

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

func TestDeliveries(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	// Newest first, as GitHub lists them.
	all := []fakeDelivery{
		{ID: 9005, GUID: "g5", Event: "push", StatusCode: 200, At: now.Add(-1 * time.Minute)},
		{ID: 9004, GUID: "g4", Event: "pull_request", Action: "opened", StatusCode: 502, At: now.Add(-2 * time.Minute)},
		{ID: 9003, GUID: "g3", Event: "push", StatusCode: 0, At: now.Add(-3 * time.Minute)},
		{ID: 9002, GUID: "g2", Event: "push", StatusCode: 200, Redelivery: true, At: now.Add(-4 * time.Minute)},
		{ID: 9001, GUID: "g1", Event: "push", StatusCode: 200, At: now.Add(-10 * time.Minute)},
		{ID: 9000, GUID: "g0", Event: "push", StatusCode: 200, At: now.Add(-11 * time.Minute)},
		{ID: 8999, GUID: "g-1", Event: "push", StatusCode: 200, At: now.Add(-12 * time.Minute)},
	}
	tests := []struct {
		name    string
		target  hooks.Target
		key     string
		since   time.Time
		want    []string // GUIDs
		cursors []string // the cursors asked, in order
	}{
		{"repository, since 5 minutes", repoAPI, "repos/acme/api/hooks/3", now.Add(-5 * time.Minute), []string{"g5", "g4", "g3", "g2"}, []string{"", "v1_2", "v1_4"}},
		{"organization, since 150 s", orgAcme, "orgs/acme/hooks/3", now.Add(-150 * time.Second), []string{"g5", "g4"}, []string{"", "v1_2"}},
		{"since ever: every page", repoAPI, "repos/acme/api/hooks/3", time.Time{}, []string{"g5", "g4", "g3", "g2", "g1", "g0", "g-1"}, []string{"", "v1_2", "v1_4", "v1_6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.deliveries[tt.key] = all
			p := f.provider(t)
			got, err := p.Deliveries(context.Background(), tt.target, "3", tt.since)
			if err != nil {
				t.Fatal(err)
			}
			var guids []string
			for _, d := range got {
				guids = append(guids, d.GUID)
			}
			if d := cmp.Diff(tt.want, guids); d != "" {
				t.Errorf("deliveries (-want +got):\n%s", d)
			}
			var cursors []string
			for _, r := range f.got("GET /" + tt.key + "/deliveries") {
				cursors = append(cursors, r.Query.Get("cursor"))
			}
			if d := cmp.Diff(tt.cursors, cursors); d != "" {
				t.Errorf("cursors asked (-want +got):\n%s", d)
			}
			wantSecond := hooks.Delivery{ID: "9004", GUID: "g4", Event: "pull_request", Action: "opened", StatusCode: 502, At: now.Add(-2 * time.Minute)}
			if d := cmp.Diff(wantSecond, got[1]); d != "" {
				t.Errorf("mapped (-want +got):\n%s", d)
			}
			if !got[1].Failed() || got[0].Failed() {
				t.Errorf("Failed: %v, %v", got[0].Failed(), got[1].Failed())
			}
			if len(got) > 3 && !got[3].Redelivery {
				t.Errorf("g2 is a redelivery")
			}
		})
	}
}

func TestRedeliver(t *testing.T) {
	for _, tt := range []struct {
		target hooks.Target
		key    string
	}{{repoAPI, "repos/acme/api/hooks/3"}, {orgAcme, "orgs/acme/hooks/3"}} {
		t.Run(tt.target.Kind, func(t *testing.T) {
			f := newFake(t)
			f.deliveries[tt.key] = []fakeDelivery{{ID: 9004, GUID: "g4", Event: "push", StatusCode: 502, At: time.Now()}}
			p := f.provider(t)
			ctx := context.Background()
			if err := p.Redeliver(ctx, tt.target, "3", hooks.Delivery{ID: "9004", GUID: "g4"}); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{tt.key + "/deliveries/9004"}, f.redelivered); d != "" {
				t.Errorf("redelivered (-want +got):\n%s", d)
			}
			err := p.Redeliver(ctx, tt.target, "3", hooks.Delivery{ID: "1", GUID: "gone"})
			if err == nil || !strings.Contains(err.Error(), "not found") {
				t.Errorf("redelivering an unknown delivery: %v", err)
			}
			if err := p.Redeliver(ctx, tt.target, "3", hooks.Delivery{GUID: "no id"}); err == nil {
				t.Error("redelivering a delivery without id succeeded")
			}
		})
	}
}
