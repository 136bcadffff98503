package jobs

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/event"
)

func TestProcessEventTaskRoundTrip(t *testing.T) {
	ev := &event.Event{ID: "d-1", Source: "acme", Kind: event.KindCodePushed, ReceivedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	payload := []byte(`{"big":"payload"}`)
	task, err := NewProcessEventTask(ev, payload, 3)
	if err != nil {
		t.Fatal(err)
	}
	got, gotPayload, err := decodeProcessEvent(task.Payload())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ev, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if !bytes.Equal(gotPayload, payload) {
		t.Errorf("payload = %q", gotPayload)
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
		"bad json":        {processEventVersion, 3, '{', '{', '{'},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := decodeProcessEvent(b); !errors.Is(err, errBadTask) {
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
