package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"
)

// TestQueueCLI runs every queue verb against reflex serve: pause the
// events queue, list the jobs waiting there, archive one and delete
// another, resume, run the archived job again and see its event
// processed, then replay that event. Failures are one line and exit 1.
func TestQueueCLI(t *testing.T) {
	p := serve(t)
	env := []string{"REFLEX_URL=" + p.url, "REFLEX_APIKEY=" + e2eAdminKey}
	queue := func(args ...string) (string, string, int) {
		t.Helper()
		return reflexCmd(t, env, append([]string{"queue"}, args...)...)
	}
	out, errOut, code := queue("pause", "events")
	wantOneLineError(t, "pause before the first job", out, errOut, code, `404 Not Found: no queue "events"`)

	sendPush(t, p, "q-first")
	waitEvent(t, p, "q-first")
	steps := []struct {
		name string
		args []string
		want [][]string // the table's lines, as fields
	}{
		{"pause", []string{"pause", "events"}, [][]string{{"STATUS", "QUEUE"}, {"paused", "events"}}},
	}
	run := func() {
		t.Helper()
		for _, s := range steps {
			out, errOut, code := queue(s.args...)
			if diff := cmp.Diff(s.want, tableLines(out)); code != 0 || diff != "" {
				t.Fatalf("%s: exit %d, stderr %q, table (-want +got):\n%s", s.name, code, errOut, diff)
			}
		}
	}
	run()
	sendPush(t, p, "q-archive")
	sendPush(t, p, "q-delete")

	out, errOut, code = queue("ls", "events")
	lines := tableLines(out)
	if code != 0 || len(lines) != 3 || !slices.Equal(lines[0], []string{"ID", "TYPE", "STATE", "RETRIED", "EVENT", "NEXT", "LAST_ERROR"}) {
		t.Fatalf("queue ls events: exit %d, %q %q", code, out, errOut)
	}
	listed := map[string]string{}
	for _, l := range lines[1:] {
		listed[l[0]] = strings.Join(l[1:], " ")
	}
	want := map[string]string{
		"acme-github/q-archive": "event:process pending 0/12 code.pushed - -",
		"acme-github/q-delete":  "event:process pending 0/12 code.pushed - -",
	}
	if diff := cmp.Diff(want, listed); diff != "" {
		t.Fatalf("queue ls events (-want +got):\n%s", diff)
	}
	out, _, code = queue("ls", "events", "-o", "json", "--limit", "1")
	var page []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page) != 1 || page[0]["state"] != "pending" || page[0]["event"].(map[string]any)["source"] != "acme-github" {
		t.Fatalf("queue ls -o json --limit 1: exit %d, %q", code, out)
	}
	if _, errOut, _ := queue("ls", "events", "--limit", "1"); errOut != "reflex: more follow: add --page 2\n" {
		t.Errorf("queue ls --limit 1: stderr %q, want where the next page is", errOut)
	}

	steps = []struct {
		name string
		args []string
		want [][]string
	}{
		{"archive", []string{"archive", "events", "acme-github/q-archive"}, [][]string{{"STATUS", "QUEUE", "ID"}, {"archived", "events", "acme-github/q-archive"}}},
		{"list archived", []string{"ls", "events", "--state", "archived"}, [][]string{
			{"ID", "TYPE", "STATE", "RETRIED", "EVENT", "NEXT", "LAST_ERROR"}, {"acme-github/q-archive", "event:process", "archived", "0/12", "code.pushed", "-", "-"}}},
		{"delete", []string{"delete", "events", "acme-github/q-delete"}, [][]string{{"STATUS", "QUEUE", "ID"}, {"deleted", "events", "acme-github/q-delete"}}},
		{"retry", []string{"retry", "events", "acme-github/q-archive"}, [][]string{{"STATUS", "QUEUE", "ID"}, {"pending", "events", "acme-github/q-archive"}}},
		{"get", []string{"get", "events", "acme-github/q-archive"}, [][]string{
			{"ID", "TYPE", "STATE", "RETRIED", "EVENT", "NEXT", "LAST_ERROR"}, {"acme-github/q-archive", "event:process", "pending", "0/12", "code.pushed", "-", "-"}}},
		{"resume", []string{"resume", "events"}, [][]string{{"STATUS", "QUEUE"}, {"running", "events"}}},
	}
	run()
	waitEvent(t, p, "q-archive")

	out, _, code = queue("stats", "-o", "json")
	var figures []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &figures) != nil {
		t.Fatalf("queue stats -o json: exit %d, %q", code, out)
	}
	var events map[string]any
	for _, f := range figures {
		if f["queue"] == "events" {
			events = f
		}
	}
	if events == nil || events["paused"] != false || events["archived"] != 0.0 || events["processed_today"].(float64) < 2 {
		t.Errorf("queue stats -o json: events = %v, want running, nothing archived, two processed", events)
	}
	out, _, code = queue("stats")
	lines = tableLines(out)
	if code != 0 || !slices.Equal(lines[0], []string{"QUEUE", "SIZE", "PENDING", "ACTIVE", "SCHEDULED", "RETRY", "ARCHIVED", "PROCESSED", "FAILED", "LATENCY", "PAUSED"}) ||
		!strings.Contains(out, "\nevents ") {
		t.Errorf("queue stats: exit %d, %q", code, out)
	}

	out, errOut, code = reflexCmd(t, env, "events", "replay", "q-archive", "--source", "acme-github")
	if diff := cmp.Diff([][]string{{"STATUS", "ID", "SOURCE", "REPLAYS", "QUEUE", "JOB"}, {"queued", "q-archive", "acme-github", "1", "events", "acme-github/q-archive/replay-1"}}, tableLines(out)); code != 0 || diff != "" {
		t.Fatalf("events replay: exit %d, stderr %q, table (-want +got):\n%s", code, errOut, diff)
	}
	// The replay marked the event queued as it queued the job: processed
	// again, it shows the replay.
	if ev := waitEvent(t, p, "q-archive"); ev.Replays != 1 || ev.ReplayedAt == nil {
		t.Errorf("the replayed event shows replays %d, replayed_at %v; want 1 and a time", ev.Replays, ev.ReplayedAt)
	}
	out, _, code = reflexCmd(t, env, "events", "replay", "q-archive", "-o", "json")
	var replay map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &replay) != nil || replay["replays"] != 2.0 || replay["job"] != "acme-github/q-archive/replay-2" {
		t.Errorf("events replay -o json: exit %d, %q", code, out)
	}

	for _, f := range []struct {
		name string
		args []string
		want string
	}{
		{"a job gone", []string{"queue", "get", "events", "acme-github/q-delete"}, `404 Not Found: queue "events" holds no job "acme-github/q-delete"`},
		{"an unknown state", []string{"queue", "ls", "events", "--state", "dead"}, "400 Bad Request: state must be pending"},
		{"resume a running queue", []string{"queue", "resume", "events"}, `409 Conflict: queue "events" is running already`},
		{"an unknown event", []string{"events", "replay", "nope"}, `404 Not Found: no event "nope" is stored`},
		{"a bad limit", []string{"queue", "ls", "events", "--limit", "0"}, "--limit 0 --page 1: want a limit from 1 to 1000"},
		{"a bad interval", []string{"queue", "stats", "--watch", "--interval", "1ms"}, "--interval 1ms: want at least 100ms"},
		{"a bad output", []string{"queue", "stats", "-o", "xml"}, `--output "xml": want json, yaml or table`},
		{"no id", []string{"queue", "retry", "events"}, "accepts 2 arg(s), received 1"},
	} {
		out, errOut, code := reflexCmd(t, env, f.args...)
		wantOneLineError(t, f.name, out, errOut, code, f.want)
	}
}

// watchFor waits until a started `reflex queue stats --watch` has written
// frame (a table's header, say) frames times to output, then interrupts
// it, and returns what it wrote; it must exit 0.
func watchFor(t *testing.T, cmd *exec.Cmd, output func() string, frames int, frame string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(output(), frame) < frames {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d frames within 15s: %q", frames, output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("interrupted watch: %v, want exit 0; output %q", err, output())
	}
	return output()
}

// TestQueueStatsWatch: on a terminal, --watch redraws the table in place:
// each table comes after the cursor is sent home and the screen cleared,
// and every frame has as many lines, so the terminal never scrolls.
// Elsewhere it prints one table after another, or one JSON line each.
func TestQueueStatsWatch(t *testing.T) {
	p := serve(t)
	sendPush(t, p, "w-1")
	waitEvent(t, p, "w-1")
	env := append(os.Environ(), "REFLEX_URL="+p.url, "REFLEX_APIKEY="+e2eAdminKey)
	args := []string{"queue", "stats", "--watch", "--interval", "200ms"}

	cmd := exec.Command(binary, args...)
	cmd.Env = env
	const rows = 24
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var screen syncBuffer
	go func() { _, _ = io.Copy(&screen, tty) }()
	out := watchFor(t, cmd, screen.String, 4, "QUEUE")
	frames := strings.Split(out, clearScreen)
	if frames[0] != "" || len(frames) < 5 {
		t.Fatalf("output before the first clear %q, %d frames; want each frame after a clear: %q", frames[0], len(frames)-1, out)
	}
	var heights []int
	for _, f := range frames[1 : len(frames)-1] { // the last may be cut short
		if !strings.Contains(f, "Every 200ms: reflex queue stats") || !strings.Contains(f, "QUEUE ") || !strings.Contains(f, "\r\nevents ") {
			t.Errorf("frame %q, want the title and the table with the events queue", f)
		}
		heights = append(heights, strings.Count(f, "\n"))
	}
	for _, h := range heights {
		if h != heights[0] || h >= rows {
			t.Fatalf("frame heights %v on a %d-row terminal, want equal heights below it", heights, rows)
		}
	}

	// Not a terminal: tables one after another, no escape sequence.
	var piped syncBuffer
	cmd = exec.Command(binary, args...)
	cmd.Env, cmd.Stdout = env, &piped
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out = watchFor(t, cmd, piped.String, 3, "QUEUE")
	if strings.Contains(out, "\x1b") || !strings.HasPrefix(out, "QUEUE ") || !strings.Contains(out, "\n\nQUEUE ") {
		t.Errorf("piped --watch = %q, want plain tables separated by a blank line", out)
	}

	var lines syncBuffer
	cmd = exec.Command(binary, append(args, "-o", "json")...)
	cmd.Env, cmd.Stdout = env, &lines
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out = watchFor(t, cmd, lines.String, 3, "\n")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var figures []map[string]any
		if err := json.Unmarshal([]byte(l), &figures); err != nil || len(figures) == 0 {
			t.Errorf("--watch -o json line %q: %v, want a JSON array of queues", l, err)
		}
	}
}
