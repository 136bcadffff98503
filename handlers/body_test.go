package handlers

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// endless is a body that never ends; reading it past the limit would hang.
type endless struct{ read int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.read += len(p)
	return len(p), nil
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name     string
		body     io.Reader
		length   int64
		wantErr  int
		wantSize int
	}{
		{name: "under the limit", body: strings.NewReader("hello"), length: 5, wantSize: 5},
		{name: "exactly the limit", body: strings.NewReader(strings.Repeat("x", 10)), length: 10, wantSize: 10},
		{name: "declared too large", body: strings.NewReader("x"), length: 11, wantErr: 413},
		{name: "undeclared too large", body: strings.NewReader(strings.Repeat("x", 11)), length: -1, wantErr: 413},
		{name: "endless", body: &endless{}, length: -1, wantErr: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", tt.body)
			r.ContentLength = tt.length
			b, err := readBody(r, 10)
			if tt.wantErr != 0 {
				var he *Error
				if !errors.As(err, &he) || he.Status != tt.wantErr {
					t.Fatalf("readBody = %v, want status %d", err, tt.wantErr)
				}
				if e, ok := tt.body.(*endless); ok && e.read > 1<<16 {
					t.Fatalf("read %d bytes of an endless body; the limit is 10", e.read)
				}
				return
			}
			if err != nil || len(b) != tt.wantSize {
				t.Fatalf("readBody = %d bytes, %v", len(b), err)
			}
		})
	}
}

// TestBodyBudget: bodies hold their buffers in the budget until released;
// one that does not fit is refused with 503 before or while it is read,
// and every byte taken comes back.
func TestBodyBudget(t *testing.T) {
	budget := NewBodyBudget(200 << 10)
	request := func(size int, declared bool) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", size)))
		r.ContentLength = -1
		if declared {
			r.ContentLength = int64(size)
		}
		return r
	}
	status := func(err error) int {
		var he *Error
		if errors.As(err, &he) {
			return he.Status
		}
		return 0
	}
	first, releaseFirst, err := readBodyWithin(request(120<<10, true), 1<<20, budget)
	if err != nil || len(first) != 120<<10 {
		t.Fatalf("first body: %d bytes, %v", len(first), err)
	}
	if _, release, err := readBodyWithin(request(100<<10, true), 1<<20, budget); status(err) != http.StatusServiceUnavailable {
		t.Fatalf("a declared body over what is left = %v, want 503", err)
	} else {
		release()
	}
	if _, release, err := readBodyWithin(request(150<<10, false), 1<<20, budget); status(err) != http.StatusServiceUnavailable {
		t.Fatalf("an undeclared body over what is left = %v, want 503", err)
	} else {
		release()
	}
	small, releaseSmall, err := readBodyWithin(request(10<<10, false), 1<<20, budget)
	if err != nil || len(small) != 10<<10 {
		t.Fatalf("a small body beside the first: %d bytes, %v", len(small), err)
	}
	releaseFirst()
	releaseSmall()
	if used := budget.used.Load(); used != 0 {
		t.Fatalf("%d bytes still held after every body was released", used)
	}
	if _, release, err := readBodyWithin(request(150<<10, false), 1<<20, budget); err != nil {
		t.Fatalf("once released, a body that fits = %v", err)
	} else {
		release()
	}
}
