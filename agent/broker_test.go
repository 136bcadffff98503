package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBrokerURL(t *testing.T) {
	tests := []struct {
		url, key, wantErr string
	}{
		{"https://reflex.example.com", "agent-1.s3cret", ""},
		{"https://reflex.example.com:8443/", "agent-1.s3cret", ""},
		{"http://127.0.0.1:8080", "agent-1.s3cret", ""},
		{"http://localhost:8080", "agent-1.s3cret", ""},
		{"http://[::1]:8080", "agent-1.s3cret", ""},
		{"http://reflex.example.com", "agent-1.s3cret", "in clear"},
		{"http://10.0.0.5:8080", "agent-1.s3cret", "in clear"},
		{"ftp://reflex.example.com", "agent-1.s3cret", "want https://"},
		{"reflex.example.com", "agent-1.s3cret", "want https://"},
		{"https://user:pw@reflex.example.com", "agent-1.s3cret", "no credentials"},
		{"https://reflex.example.com", "no-secret", "name.secret"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := newBroker(tt.url, tt.key, "v1", http.DefaultClient)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("newBroker = %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("newBroker = %v, want an error about %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the error shows the key: %v", err)
			}
		})
	}
}

func TestTransient(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&statusError{status: http.StatusServiceUnavailable}, true},
		{&statusError{status: http.StatusBadGateway}, true},
		{&statusError{status: http.StatusTooManyRequests}, true},
		{&statusError{status: http.StatusUnauthorized}, false},
		{&statusError{status: http.StatusBadRequest}, false},
		{fmt.Errorf("%w: %w", errLeaseLost, &statusError{status: http.StatusConflict}), false},
		{errors.New("dial tcp: connection refused"), true},
		{context.Canceled, false},
		{context.DeadlineExceeded, true},
	}
	for _, tt := range tests {
		if got := transient(tt.err); got != tt.want {
			t.Errorf("transient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestBackoff: waits grow from a quarter second to 30 s, each between half
// and all of its step (so agents spread out), and a Retry-After wins.
func TestBackoff(t *testing.T) {
	var b backoff
	err := errors.New("connection refused")
	distinct := map[time.Duration]bool{}
	for n := range 12 {
		step := min(backoffMin<<n, backoffMax)
		d := b.next(err)
		if d < step/2 || d > step {
			t.Fatalf("wait %d = %s, want between %s and %s", n, d, step/2, step)
		}
		distinct[d] = true
	}
	if len(distinct) < 6 {
		t.Errorf("%d distinct waits out of 12: not jittered", len(distinct))
	}
	b.reset()
	if d := b.next(err); d > backoffMin {
		t.Errorf("after a reset the wait is %s, want at most %s", d, backoffMin)
	}
	if d := b.next(&statusError{status: 503, retryAfter: 7 * time.Second}); d != 7*time.Second {
		t.Errorf("with Retry-After: 7 the wait is %s", d)
	}
}

// TestOutputStreamBound: output beyond the streamed bound is dropped, and
// a write never fails.
func TestOutputStreamBound(t *testing.T) {
	s := &outputStream{}
	chunk := make([]byte, 300<<10)
	for range 5 {
		if n, err := s.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if len(s.pending) != maxStreamed || !s.dropped {
		t.Fatalf("%d bytes pending (dropped %v), want %d and dropped", len(s.pending), s.dropped, maxStreamed)
	}
}

// TestCallCarriesTheRequestID: a call about a job sends the job's request
// id in X-Request-Id, so Reflex logs it under the id of the webhook that
// caused the job; a call about no job, or with an id that could not be a
// header's value, sends none of its own.
func TestCallCarriesTheRequestID(t *testing.T) {
	got := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Values("X-Request-Id")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	b, err := newBroker(srv.URL, "agent-1.s3cret", "v1", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   string
		want []string
	}{
		{"the job's id", "trace-7f3a.e2e", []string{"trace-7f3a.e2e"}},
		{"no job", "", nil},
		{"an id with a line break", "a\r\nX-Evil: 1", nil},
		{"an id with a space", "a b", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.call(withRequestID(context.Background(), tt.id), "/api/v1/agents/heartbeat", nil, nil); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, <-got); diff != "" {
				t.Errorf("X-Request-Id sent (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJobCallsLoseTheLease: a job's operation answered 401 (the agent's
// key was deleted), 403, 404 or 409 means the job is no longer the
// agent's, so it stops; other answers, and other calls, do not.
func TestJobCallsLoseTheLease(t *testing.T) {
	status := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(<-status)
	}))
	defer srv.Close()
	b, err := newBroker(srv.URL, "agent-1.s3cret", "v1", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		status int
		lost   bool
	}{
		{"/api/v1/agents/jobs/j1.1/renew", http.StatusUnauthorized, true},
		{"/api/v1/agents/jobs/j1.1/renew", http.StatusForbidden, true},
		{"/api/v1/agents/jobs/j1.1/report", http.StatusNotFound, true},
		{"/api/v1/agents/jobs/j1.1/renew", http.StatusConflict, true},
		{"/api/v1/agents/jobs/j1.1/renew", http.StatusServiceUnavailable, false},
		{"/api/v1/agents/heartbeat", http.StatusUnauthorized, false},
	}
	for _, tt := range tests {
		status <- tt.status
		_, err := b.call(context.Background(), tt.path, nil, nil)
		if got := errors.Is(err, errLeaseLost); got != tt.lost {
			t.Errorf("%s answered %d: lease lost = %v, want %v (%v)", tt.path, tt.status, got, tt.lost, err)
		}
	}
}
