package delivery

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"sync"

	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// Record is a deployment object's document: one delivery and how it went.
// It is validated by the deployment schema (state/schemas/deployment.json)
// like any object written through the API.
type Record struct {
	Name    string            `json:"name"`
	Service string            `json:"service"`
	Zone    string            `json:"zone"`
	Trigger string            `json:"trigger,omitempty"`
	Action  string            `json:"action"`
	Params  map[string]string `json:"params,omitempty"`
	Release string            `json:"release,omitempty"`
	Status  Status            `json:"status"`
	// Event is the event that caused the delivery.
	Event *RecordEvent `json:"event,omitempty"`
	// Agent is the agent that reported last.
	Agent string `json:"agent,omitempty"`
	// Reason says why the delivery ended as it did, or was run again.
	Reason string `json:"reason,omitempty"`
	// Output is the last attempt's output.
	Output     string    `json:"output,omitempty"`
	Attempts   []Attempt `json:"attempts"`
	QueuedAt   string    `json:"queued_at,omitempty"`
	StartedAt  string    `json:"started_at,omitempty"`
	FinishedAt string    `json:"finished_at,omitempty"`
}

// RecordEvent is the event of a delivery as its record keeps it.
type RecordEvent struct {
	ID         string `json:"id"`
	Source     string `json:"source"`
	Kind       string `json:"kind"`
	Repository string `json:"repository"`
	Commit     string `json:"commit"`
	Image      string `json:"image,omitempty"`
	Digest     string `json:"digest,omitempty"`
	// RequestID is the id of the webhook request that brought the event
	// in, to find the delivery's log lines by.
	RequestID string `json:"request_id,omitempty"`
}

// requestID returns the request id of the event the record keeps, or "".
func (r *Record) requestID() string {
	if r.Event == nil {
		return ""
	}
	return r.Event.RequestID
}

// Attempt is one run of a delivery by an agent.
type Attempt struct {
	Attempt    int           `json:"attempt"`
	Run        string        `json:"run"`
	Agent      string        `json:"agent"`
	Status     attemptStatus `json:"status"`
	StartedAt  string        `json:"started_at"`
	FinishedAt string        `json:"finished_at,omitempty"`
	ExitCode   *int          `json:"exit_code,omitempty"`
	Output     string        `json:"output,omitempty"`
	Error      string        `json:"error,omitempty"`
}

// recordEvent is a job's event as its record keeps it.
func recordEvent(e wire.EventRef) *RecordEvent {
	return &RecordEvent{ID: e.ID, Source: e.Source, Kind: e.Kind, Repository: e.Repository,
		Commit: e.Commit, Image: e.Image, Digest: e.Digest, RequestID: e.RequestID}
}

// eventRef is the event a record keeps, as a job names it.
func (e *RecordEvent) eventRef() wire.EventRef {
	if e == nil {
		return wire.EventRef{}
	}
	return wire.EventRef{ID: e.ID, Source: e.Source, Kind: e.Kind, Repository: e.Repository,
		Commit: e.Commit, Image: e.Image, Digest: e.Digest, RequestID: e.RequestID}
}

// recordOf reads a deployment object's record.
// RecordOf reads a deployment object's delivery record.
func RecordOf(o *state.Object) (*Record, error) { return recordOf(o) }

func recordOf(o *state.Object) (*Record, error) {
	raw, err := json.Marshal(o.Content)
	if err != nil {
		return nil, fmt.Errorf("read delivery record %s: %w", o.Name, err)
	}
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("read delivery record %s: %w", o.Name, err)
	}
	return &r, nil
}

// recordFields are the content fields a Record holds, by JSON name.
var recordFields = sync.OnceValue(func() []string {
	t := reflect.TypeFor[Record]()
	names := make([]string, 0, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
})

// content returns the record as an object's content, over base: the
// fields the record holds are its own (one it leaves empty is removed),
// and fields it does not know (a provider's reference, say) are kept.
func (r *Record) content(base map[string]any) (map[string]any, error) {
	if r.Attempts == nil {
		r.Attempts = []Attempt{}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode delivery record %s: %w", r.Name, err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("encode delivery record %s: %w", r.Name, err)
	}
	out := make(map[string]any, len(base)+len(fields))
	maps.Copy(out, base)
	for _, name := range recordFields() {
		delete(out, name)
	}
	maps.Copy(out, fields)
	return out, nil
}

// editRecord returns a state edit that changes a deployment record with
// change, which returns state.ErrNoChange to leave it alone.
func editRecord(change func(r *Record) error) state.Edit {
	return func(cur *state.Object) (*state.Object, error) {
		r, err := recordOf(cur)
		if err != nil {
			return nil, err
		}
		if err := change(r); err != nil {
			return nil, err
		}
		next := cur.Copy()
		if next.Content, err = r.content(cur.Content); err != nil {
			return nil, err
		}
		return next, nil
	}
}
