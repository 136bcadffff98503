package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/reflexops/reflex/wire"
)

// Errors of Ledger.Check: each means the job must not run.
var (
	// ErrReplay: this agent already finished a job with this id.
	ErrReplay = errors.New("the job was already run to its end on this agent: a replay")
	// ErrRollback: the job is older than one this agent already finished
	// for its service.
	ErrRollback = errors.New("the job is older than one already finished for its service: a rollback")
)

// Ledger is the agent's own record of the jobs it finished, kept in a
// file so that a restart remembers: the id of every finished job until it
// expires (an expired job is refused anyway), and per service the highest
// sequence finished. A job signed again and queued by hand runs once; an
// old signed job never takes a service back, unless Reflex issued a new
// one for it (an operator's retry gets a new sequence).
type Ledger struct {
	path string
	now  func() time.Time

	mu    sync.Mutex
	state ledgerState
}

// ledgerState is the ledger file's content.
type ledgerState struct {
	// Finished holds the finished jobs, by id and sequence (finishedKey),
	// with their expiry.
	Finished map[string]time.Time `json:"finished"`
	// Sequence holds the highest sequence finished, by service.
	Sequence map[string]uint64 `json:"sequence"`
}

// OpenLedger reads the ledger at path, or starts an empty one there. A
// file that cannot be read is an error: an agent that forgot what it ran
// would accept replays.
func OpenLedger(path string, now func() time.Time) (*Ledger, error) {
	if now == nil {
		now = time.Now
	}
	l := &Ledger{path: path, now: now, state: ledgerState{Finished: map[string]time.Time{}, Sequence: map[string]uint64{}}}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		return l, l.save()
	case err != nil:
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := json.Unmarshal(raw, &l.state); err != nil {
		return nil, fmt.Errorf("ledger %s: %w; remove it only if no job signed before can still be valid", path, err)
	}
	if l.state.Finished == nil {
		l.state.Finished = map[string]time.Time{}
	}
	if l.state.Sequence == nil {
		l.state.Sequence = map[string]uint64{}
	}
	return l, nil
}

// Check returns an error wrapping ErrReplay or ErrRollback when j must not
// run.
func (l *Ledger) Check(j *wire.Job) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.state.Finished[finishedKey(j)]; ok {
		return fmt.Errorf("%w (job %s)", ErrReplay, j.ID)
	}
	if last := l.state.Sequence[j.Service]; last > 0 && j.Sequence < last {
		return fmt.Errorf("%w (service %s: sequence %d, and %d finished)", ErrRollback, j.Service, j.Sequence, last)
	}
	return nil
}

// Finish records that j ran to its end (succeeded, or failed for good),
// and saves the ledger before it returns.
func (l *Ledger) Finish(j *wire.Job) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for id, expires := range l.state.Finished {
		if now.After(expires) {
			delete(l.state.Finished, id)
		}
	}
	l.state.Finished[finishedKey(j)] = j.ExpiresAt
	if j.Sequence > l.state.Sequence[j.Service] {
		l.state.Sequence[j.Service] = j.Sequence
	}
	return l.save()
}

// finishedKey names a job in the ledger: its delivery id and sequence, so
// that a delivery an operator runs again (a new job, with a new sequence,
// for the same delivery) is not taken for a replay of the one that ran.
func finishedKey(j *wire.Job) string { return fmt.Sprintf("%s#%d", j.ID, j.Sequence) }

// save writes the ledger atomically: a crash leaves the old file or the
// new one, never half of one.
func (l *Ledger) save() error {
	raw, err := json.Marshal(l.state)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(l.path), ".ledger-*")
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("ledger: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("ledger: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}
