package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/event"
)

// BranchHead is the live state of one branch: the last commit pushed to it.
type BranchHead struct {
	Source     string    `json:"source"`
	Repository string    `json:"repository"`
	Branch     string    `json:"branch"`
	Commit     string    `json:"commit,omitempty"`
	Deleted    bool      `json:"deleted,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	EventID    string    `json:"event_id"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// WorkflowState is the live state of one workflow: its latest run.
type WorkflowState struct {
	Source     string            `json:"source"`
	Repository string            `json:"repository"`
	Workflow   string            `json:"workflow"`
	RunID      string            `json:"run_id,omitempty"`
	Number     int               `json:"number,omitempty"`
	Attempt    int               `json:"attempt,omitempty"`
	Status     event.BuildStatus `json:"status"`
	Outcome    event.Outcome     `json:"outcome,omitempty"`
	Branch     string            `json:"branch,omitempty"`
	Commit     string            `json:"commit,omitempty"`
	URL        string            `json:"url,omitempty"`
	EventID    string            `json:"event_id"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// ApplyToLive updates the live records an event concerns: a push moves its
// branch head, a build event its workflow's latest run. Updates are
// idempotent and ordered, so a redelivered or late event never moves a
// record backwards. Events that concern no record are ignored.
func (s *Store) ApplyToLive(ctx context.Context, ev *event.Event) error {
	if ev.Repository == nil {
		return nil
	}
	switch {
	case ev.Type == "push" && ev.Branch != "" && (ev.Kind == event.KindCodePushed || ev.Kind == event.KindBranchCreated || ev.Kind == event.KindBranchDeleted):
		head := BranchHead{
			Source: ev.Source, Repository: ev.Repository.Name, Branch: ev.Branch,
			Commit: ev.Commit, Deleted: ev.Kind == event.KindBranchDeleted,
			Actor: ev.Actor, EventID: ev.ID, UpdatedAt: ev.ReceivedAt,
		}
		field := ev.Source + "|" + head.Repository + "|" + head.Branch
		return setIfNewer(ctx, s.rdb, branchesKey(), field, head, func(old, cur BranchHead) bool {
			return !cur.UpdatedAt.Before(old.UpdatedAt)
		})
	case ev.Build != nil && ev.Build.Name != "" && (ev.Kind == event.KindBuildQueued || ev.Kind == event.KindBuildStarted || ev.Kind == event.KindBuildFinished):
		b := ev.Build
		wf := WorkflowState{
			Source: ev.Source, Repository: ev.Repository.Name, Workflow: b.Name,
			RunID: b.ID, Number: b.Number, Attempt: b.Attempt, Status: b.Status, Outcome: b.Outcome,
			Branch: ev.Branch, Commit: ev.Commit, URL: b.URL, EventID: ev.ID, UpdatedAt: ev.ReceivedAt,
		}
		if b.UpdatedAt != nil {
			wf.UpdatedAt = *b.UpdatedAt
		}
		field := ev.Source + "|" + wf.Repository + "|" + wf.Workflow
		return setIfNewer(ctx, s.rdb, workflowsKey(), field, wf, newerRun)
	}
	return nil
}

// newerRun orders updates of one workflow: a later run, then a later
// attempt, then a later provider update time, then further progress.
func newerRun(old, cur WorkflowState) bool {
	switch {
	case cur.Number != old.Number:
		return cur.Number > old.Number
	case cur.Attempt != old.Attempt:
		return cur.Attempt > old.Attempt
	case !cur.UpdatedAt.Equal(old.UpdatedAt):
		return cur.UpdatedAt.After(old.UpdatedAt)
	}
	return progress(cur.Status) >= progress(old.Status)
}

func progress(s event.BuildStatus) int {
	switch s {
	case event.BuildQueued:
		return 1
	case event.BuildRunning:
		return 2
	case event.BuildFinished:
		return 3
	}
	return 0
}

// maxTxRetries bounds optimistic-transaction retries under contention.
const maxTxRetries = 20

// setIfNewer writes rec into a hash field unless the stored record is newer
// by the newer function, in an optimistic transaction (WATCH/MULTI).
func setIfNewer[T any](ctx context.Context, rdb redis.UniversalClient, key, field string, rec T, newer func(old, cur T) bool) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode live record: %w", err)
	}
	txf := func(tx *redis.Tx) error {
		stored, err := tx.HGet(ctx, key, field).Bytes()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if err == nil {
			var old T
			if json.Unmarshal(stored, &old) == nil && !newer(old, rec) {
				return nil
			}
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, field, raw)
			return nil
		})
		return err
	}
	for range maxTxRetries {
		err = rdb.Watch(ctx, txf, key)
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("update live record %s: %w", field, err)
	}
	return nil
}

// Branches returns the live branch heads, optionally of one repository,
// sorted by source, repository and branch.
func (s *Store) Branches(ctx context.Context, repository string) ([]BranchHead, error) {
	return readSorted(ctx, s.rdb, branchesKey(), func(b BranchHead) (string, bool) {
		return b.Source + "|" + b.Repository + "|" + b.Branch, repository == "" || b.Repository == repository
	})
}

// Workflows returns the live state of each workflow, optionally of one
// repository, sorted by source, repository and workflow.
func (s *Store) Workflows(ctx context.Context, repository string) ([]WorkflowState, error) {
	return readSorted(ctx, s.rdb, workflowsKey(), func(w WorkflowState) (string, bool) {
		return w.Source + "|" + w.Repository + "|" + w.Workflow, repository == "" || w.Repository == repository
	})
}

// readSorted decodes every record of a hash, keeps those selected by pick,
// and sorts them by the key pick returns.
func readSorted[T any](ctx context.Context, rdb redis.UniversalClient, key string, pick func(T) (sortKey string, keep bool)) ([]T, error) {
	all, err := rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	type keyed struct {
		key string
		rec T
	}
	kept := make([]keyed, 0, len(all))
	for field, raw := range all {
		var rec T
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			return nil, fmt.Errorf("decode %s: %w", field, err)
		}
		if k, ok := pick(rec); ok {
			kept = append(kept, keyed{k, rec})
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].key < kept[j].key })
	out := make([]T, len(kept))
	for i, k := range kept {
		out[i] = k.rec
	}
	return out, nil
}
