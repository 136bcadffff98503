package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/wire"
)

// TestLedger: a job finished here never runs again, a job older than one
// finished for its service never runs, an operator's retry (a new job for
// the same delivery) does, and a restart remembers all of it.
func TestLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "ledger.json")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	l, err := OpenLedger(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	job := func(id string, seq uint64) *wire.Job {
		return &wire.Job{ID: id, Service: "web", Sequence: seq, ExpiresAt: now.Add(time.Hour)}
	}
	if err := l.Finish(job("d-1", 5)); err != nil {
		t.Fatal(err)
	}
	check := func(l *Ledger) {
		t.Helper()
		for _, tt := range []struct {
			name string
			job  *wire.Job
			want error
		}{
			{"the finished job again", job("d-1", 5), ErrReplay},
			{"an older job of the service", job("d-0", 4), ErrRollback},
			{"an unnumbered job after a numbered one", job("d-00", 0), ErrRollback},
			{"the next job", job("d-2", 6), nil},
			{"an operator's retry of the finished delivery", job("d-1", 7), nil},
			{"another service's older job", &wire.Job{ID: "d-9", Service: "api", Sequence: 1, ExpiresAt: now.Add(time.Hour)}, nil},
		} {
			if err := l.Check(tt.job); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.want)
			}
		}
	}
	check(l)
	reopened, err := OpenLedger(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	check(reopened)

	// Entries last as long as their job could be valid.
	now = now.Add(2 * time.Hour)
	if err := reopened.Finish(job("d-2", 6)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "d-1#5") || !strings.Contains(string(raw), "d-2#6") {
		t.Errorf("ledger after expiry: %s", raw)
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLedger(path, clock); err == nil {
		t.Error("a ledger that cannot be read was taken for an empty one")
	}
}
