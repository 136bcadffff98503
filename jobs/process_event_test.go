package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/event"
)

// TestProcessEventTaskRoundTrip: both ways of making the job decode to
// what they were made of (the event, and the payload when the job carries
// it), and say whether the intake stored the payload.
func TestProcessEventTaskRoundTrip(t *testing.T) {
	ev := &event.Event{ID: "d-1", Source: "acme", Kind: event.KindCodePushed, ReceivedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	payload := []byte(`{"big":"payload"}`)
	meta, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	task, err := NewProcessEventTask(ev, payload, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		frame   []byte
		payload []byte
		stored  bool
	}{
		{"NewProcessEventTask", task.Payload(), payload, false},
		{"the intake's job", frame(payloadStored, meta, nil), nil, true},
	} {
		got, err := decodeProcessEvent(tt.frame)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(ev, got.event); diff != "" {
			t.Errorf("%s: event (-want +got):\n%s", tt.name, diff)
		}
		if !bytes.Equal(got.payload, tt.payload) || got.stored != tt.stored {
			t.Errorf("%s: payload %q, stored by the intake %v; want %q, %v", tt.name, got.payload, got.stored, tt.payload, tt.stored)
		}
	}
}

func TestDecodeProcessEventRejects(t *testing.T) {
	good, err := NewProcessEventTask(&event.Event{ID: "d"}, []byte("{}"), 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"empty":           nil,
		"unknown version": append([]byte{9}, good.Payload()[1:]...),
		"truncated":       good.Payload()[:5],
		"bad json":        {framedPayload, 3, '{', '{', '{'},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeProcessEvent(b); !errors.Is(err, errBadTask) {
				t.Fatalf("decode = %v, want errBadTask", err)
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{0: time.Second, 3: 8 * time.Second, 20: 5 * time.Minute} {
		for range 20 {
			d := retryDelay(n, nil, nil)
			if d < want*4/5 || d > want*6/5 {
				t.Fatalf("retryDelay(%d) = %v, want within 20%% of %v", n, d, want)
			}
		}
	}
}
