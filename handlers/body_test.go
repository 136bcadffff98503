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
