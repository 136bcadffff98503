package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/internal/fuzzseed"
	"github.com/reflexops/reflex/wire"
)

// FuzzLoadActions feeds LoadActions arbitrary actions files, seeded with
// the example's and the tests' own, in a folder that holds one executable
// script: it refuses a file with a one-line error, and a file it loads is
// one an agent can run as the format says. Every action is complete for
// its type, a script is an executable file inside the folder, groups and
// onSuccess name actions without a loop, and a job that passes no
// parameter, or only ones the action declares, is not refused for its
// names.
func FuzzLoadActions(f *testing.F) {
	for _, raw := range fuzzseed.Files(f, "examples/*/actions.json") {
		f.Add(raw)
	}
	for _, s := range []string{
		`{}`,
		`{"actions":{"a":{"type":"system","exec":["true"],"onSuccess":"b"},"b":{"type":"group","actions":["a"]}}}`,
		`{"actions":{"a":{"type":"system","cmd":["true"],"timeout":"5m","params":{"X":{"pattern":"[0-9]+","env":"APP_X","allowDash":true}}}}}`,
		`{"actions":{"a":{"type":"script","target":"deploy.sh","args":["${X}"],"params":{"X":{}}},"b":{"type":"group","actions":["a","c"]},"c":{"type":"http","url":"http://x","headers":{"X":"${X}"}}}}`,
		`{"actions":{"a":{"type":"forward","url":"http://x","sign":"github","secret":"${receiver-secret}"}},"config":{"receiver-secret":"s"}}`,
		"actions:\n  a: {type: script}\n  deploy.sh: {type: script}\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "deploy.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "actions.json")
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := LoadActions(path)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "actions file ") || strings.Contains(msg, "\n") {
				t.Fatalf("LoadActions error %q is not one line about the file", msg)
			}
			return
		}
		if len(file.Actions) == 0 {
			t.Fatal("a file without actions loaded")
		}
		for name, a := range file.Actions {
			checkLoaded(t, file, name, a)
		}
	})
}

// checkLoaded checks one action of a loaded actions file.
func checkLoaded(t *testing.T, file *ActionsFile, name string, a *Action) {
	t.Helper()
	if a == nil || a.timeout <= 0 {
		t.Fatalf("action %q loaded without a timeout: %+v", name, a)
	}
	switch a.Type {
	case "system":
		if len(a.Exec) == 0 {
			t.Errorf("system action %q loaded without exec", name)
		}
	case "script":
		target := filepath.Join(file.dir, a.Target)
		st, err := os.Stat(target)
		if !filepath.IsLocal(a.Target) || err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
			t.Errorf("script action %q loaded with target %q, which is not an executable file in the folder", name, a.Target)
		}
	case "http", "forward":
		if a.URL == "" {
			t.Errorf("%s action %q loaded without a url", a.Type, name)
		}
	case "group":
		if len(a.Actions) == 0 {
			t.Errorf("group action %q loaded without actions", name)
		}
	default:
		t.Errorf("action %q loaded with type %q", name, a.Type)
	}
	// Every path through groups and onSuccess ends: no action is met
	// twice on one path.
	var walk func(string, map[string]bool)
	walk = func(n string, on map[string]bool) {
		if on[n] {
			t.Fatalf("action %q leads back to %q", name, n)
		}
		b := file.Actions[n]
		if b == nil {
			t.Fatalf("action %q leads to %q, which is not an action", name, n)
		}
		on[n] = true
		for _, next := range b.Actions {
			walk(next, on)
		}
		if b.OnSuccess != "" {
			walk(b.OnSuccess, on)
		}
		delete(on, n)
	}
	walk(name, map[string]bool{})
	if err := file.CheckParams(name, nil); err != nil {
		t.Errorf("action %q refuses a job without parameters: %v", name, err)
	}
	if err := file.CheckParams(name, map[string]string{"UNDECLARED_": "x"}); !errors.Is(err, ErrParams) && a.Params["UNDECLARED_"] == nil {
		t.Errorf("action %q took an undeclared parameter: %v", name, err)
	}
}

// FuzzHandle offers the agent arbitrary signed jobs, seeded with genuine
// ones (one it may run, and others it must refuse: for another zone,
// expired, for an action it does not define, with a parameter off its
// pattern), and the same signed by an impostor: the agent claims a job
// only when it is the runnable one exactly as Reflex signed it, and
// otherwise reports one refusal and runs nothing. Reflex answers every
// claim with a cancellation, so even the genuine job never runs.
func FuzzHandle(f *testing.F) {
	now := time.Date(2026, 1, 2, 3, 30, 0, 0, time.UTC)
	runnable := &wire.Job{ID: "d-1", Zone: "production", Service: "web", Action: "deploy", Sequence: 3,
		Params: map[string]string{"IMAGE": "ghcr.io/acme/web:1.2.0"}, Event: wire.EventRef{ID: "e-1", Source: "acme", RequestID: "req-1"},
		IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}
	refused := func(change func(j *wire.Job)) *wire.Job {
		j := *runnable
		j.Params = maps.Clone(runnable.Params)
		change(&j)
		return &j
	}
	jobs := []*wire.Job{runnable,
		refused(func(j *wire.Job) { j.Zone = "staging" }),
		refused(func(j *wire.Job) { j.ExpiresAt = now }),
		refused(func(j *wire.Job) { j.Action = "wipe" }),
		refused(func(j *wire.Job) { j.Params["IMAGE"] = "--privileged" }),
	}
	genuine, verifier := fuzzseed.Signer(f, "k1", "reflex fuzz k1")
	impostor, _ := fuzzseed.Signer(f, "k1", "an impostor's k1")
	for _, j := range jobs {
		for _, s := range []*wire.Signer{genuine, impostor} {
			p, err := s.Sign(j)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(p)
		}
	}
	dir := f.TempDir()
	file, err := loadActionsIn(f, dir, `{"actions":{"deploy":{"type":"system","exec":["false"],"params":{"IMAGE":{"pattern":"[a-z0-9./:-]+"}}}}}`)
	if err != nil {
		f.Fatal(err)
	}
	clock := func() time.Time { return now }
	ledger, err := OpenLedger(filepath.Join(dir, "ledger.json"), clock)
	if err != nil {
		f.Fatal(err)
	}
	reflex := &fakeReflex{}
	b, err := newBroker("http://127.0.0.1", "agent-1.secret", "", &http.Client{Transport: reflex})
	if err != nil {
		f.Fatal(err)
	}
	a := &agent{o: Options{Zone: "production", Actions: file, Keys: verifier, Ledger: ledger, Log: slog.New(slog.DiscardHandler), Now: clock},
		broker: b, jobs: map[string]bool{}, metrics: newMetrics(nil), talk: context.Background()}
	a.session.Store(&session{name: "agent-1", cadence: cadence{pollWait: time.Second, leaseTTL: time.Minute, renewEvery: 20 * time.Second, heartbeat: 20 * time.Second}})
	f.Fuzz(func(t *testing.T, signed []byte) {
		reflex.reports = nil
		a.handle(context.Background(), wire.Offer{Job: "j-1", Lease: "l-1", Attempt: 1, LeaseExpiresAt: now.Add(time.Minute), Signed: signed})
		job, verr := verifier.Verify(signed)
		kinds := make([]string, 0, len(reflex.reports))
		for _, r := range reflex.reports {
			kinds = append(kinds, r.Kind)
		}
		want := []string{wire.ReportRefused}
		if verr == nil && cmp.Equal(job, runnable) {
			want = []string{wire.ReportStarted, wire.ReportFinished}
		}
		if diff := cmp.Diff(want, kinds); diff != "" {
			t.Fatalf("reports (-want +got):\n%s", diff)
		}
		if last := reflex.reports[len(reflex.reports)-1]; last.Kind == wire.ReportFinished && (!last.Cancelled || last.Succeeded) {
			t.Fatalf("the claimed job was not cancelled before it ran: %+v", last)
		}
	})
}

// loadActionsIn writes an actions file into dir and loads it.
func loadActionsIn(f *testing.F, dir, content string) (*ActionsFile, error) {
	f.Helper()
	path := filepath.Join(dir, "handle-actions.json")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		f.Fatal(err)
	}
	return LoadActions(path)
}

// fakeReflex answers the agent's calls in memory: it records reports and
// cancels every claim.
type fakeReflex struct {
	reports []wire.Report
}

func (r *fakeReflex) RoundTrip(req *http.Request) (*http.Response, error) {
	var rep wire.Report
	if req.Body != nil {
		defer req.Body.Close()
		if err := json.NewDecoder(req.Body).Decode(&rep); err != nil {
			return nil, err
		}
	}
	answer := `{}`
	if req.URL.Path == wire.JobPath("j-1", wire.OpReport) {
		r.reports = append(r.reports, rep)
		if rep.Kind == wire.ReportStarted {
			answer = `{"cancel":true}`
		}
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(answer)), Request: req}, nil
}
