package event_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/reflexops/reflex/event"
)

func TestCloudEvent(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		ev       event.Event
		wantType string
		wantCD   string
	}{
		{"merged change", event.Event{Kind: event.KindChangeMerged}, "dev.reflex.change.merged", "dev.cdevents.change.merged.0.3.0"},
		{"push has no CDEvents type", event.Event{Kind: event.KindCodePushed}, "dev.reflex.code.pushed", ""},
		{"successful deployment", event.Event{Kind: event.KindDeploymentFinished, Deployment: &event.Deployment{State: "success"}}, "dev.reflex.deployment.finished", "dev.cdevents.service.deployed.0.3.0"},
		{"failed deployment", event.Event{Kind: event.KindDeploymentFinished, Deployment: &event.Deployment{State: "failure"}}, "dev.reflex.deployment.finished", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := tt.ev
			ev.ID, ev.Source, ev.Connector, ev.Type, ev.ReceivedAt = "d-1", "acme", "github", "x", at
			ev.Repository = &event.Repository{Name: "acme/widget"}
			ce := ev.CloudEvent()
			if ce.Type != tt.wantType || ce.CDEventsType != tt.wantCD {
				t.Errorf("type %q, cdeventstype %q; want %q, %q", ce.Type, ce.CDEventsType, tt.wantType, tt.wantCD)
			}
			raw, err := json.Marshal(ce)
			if err != nil {
				t.Fatal(err)
			}
			var attrs map[string]any
			if err := json.Unmarshal(raw, &attrs); err != nil {
				t.Fatal(err)
			}
			for k, want := range map[string]any{"specversion": "1.0", "id": "d-1", "source": "/sources/acme", "subject": "acme/widget", "time": "2026-01-02T03:04:05Z", "providertype": "github.x"} {
				if attrs[k] != want {
					t.Errorf("%s = %v, want %v", k, attrs[k], want)
				}
			}
		})
	}
}
