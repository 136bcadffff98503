package delivery

import (
	"context"
	"testing"

	"github.com/reflexops/reflex/state"
)

// TestRequestIDOfADelivery: a delivery's request id is read from its
// record's event, and handed to status reporters in their context.
func TestRequestIDOfADelivery(t *testing.T) {
	content, err := full().content(nil)
	if err != nil {
		t.Fatal(err)
	}
	noEvent := full()
	noEvent.Event = nil
	bare, err := noEvent.content(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		rec  *state.Object
		want string
	}{
		{"the record's event keeps it", &state.Object{Name: "d-1", Content: content}, "req-7f3a"},
		{"a record without its event has none", &state.Object{Name: "d-1", Content: bare}, ""},
		{"a record of an event from before request ids", &state.Object{Name: "d-1", Content: map[string]any{"event": map[string]any{"id": "e1"}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recordRequestID(tt.rec); got != tt.want {
				t.Errorf("recordRequestID = %q, want %q", got, tt.want)
			}
			r, err := recordOf(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.requestID(); got != tt.want {
				t.Errorf("Record.requestID = %q, want %q", got, tt.want)
			}
			if got := RequestID(withRequestID(context.Background(), tt.want)); got != tt.want {
				t.Errorf("RequestID of a reporter's context = %q, want %q", got, tt.want)
			}
		})
	}
	if got := RequestID(context.Background()); got != "" {
		t.Errorf("RequestID of a context without one = %q, want none", got)
	}
}
