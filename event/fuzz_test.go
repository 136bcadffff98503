package event_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzCloudEvent converts arbitrary normalized events, seeded with the
// fixtures' golden events, to CloudEvents: the required attributes are
// always there and derived from the event as documented, the result
// encodes as JSON, and its data is the event itself, unchanged.
func FuzzCloudEvent(f *testing.F) {
	for _, provider := range fixtures.Providers() {
		fxs, err := fixtures.Load(provider)
		if err != nil {
			f.Fatal(err)
		}
		for _, fx := range fxs {
			if len(fx.Golden) > 0 && fx.Golden[0] == '{' {
				f.Add(fx.Golden)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev event.Event
		if json.Unmarshal(raw, &ev) != nil {
			return
		}
		ce := ev.CloudEvent()
		subject := ""
		if ev.Repository != nil {
			subject = ev.Repository.Name
		}
		want := []string{event.CloudEventsSpecVersion, ev.ID, "/sources/" + ev.Source, "dev.reflex." + string(ev.Kind), subject, ev.Connector + "." + ev.Type}
		got := []string{ce.SpecVersion, ce.ID, ce.Source, ce.Type, ce.Subject, ce.ProviderType}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("attributes specversion, id, source, type, subject, providertype (-want +got):\n%s", diff)
		}
		out, err := json.Marshal(ce)
		if err != nil {
			t.Fatalf("the CloudEvent does not encode: %v", err)
		}
		var back struct {
			SpecVersion string       `json:"specversion"`
			Data        *event.Event `json:"data"`
		}
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("the CloudEvent's JSON does not decode: %v", err)
		}
		if back.SpecVersion != event.CloudEventsSpecVersion || back.Data == nil {
			t.Fatalf("decoded specversion %q and data %v, want %q and the event", back.SpecVersion, back.Data, event.CloudEventsSpecVersion)
		}
		if diff := cmp.Diff(&ev, back.Data, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("the CloudEvent's data is not the event (-event +data):\n%s", diff)
		}
	})
}
