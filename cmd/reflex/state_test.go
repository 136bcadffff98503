package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/redistest"
)

// stateCLI runs `reflex state …` against a server with the admin key.
func stateCLI(t *testing.T, p *process, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return reflexWithInput(t, []string{"REFLEX_URL=" + p.url, "REFLEX_APIKEY=" + e2eAdminKey}, stdin, append([]string{"state"}, args...)...)
}

func TestStateCLI(t *testing.T) {
	p := serve(t)
	watch := exec.Command(binary, "state", "watch", "service")
	watch.Env = append(os.Environ(), "REFLEX_URL="+p.url, "REFLEX_APIKEY="+e2eAdminKey)
	watchOut, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	watchErr, err := watch.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer watch.Process.Kill()
	changes, notices := lineFeed(watchOut), lineFeed(watchErr)
	if l := nextLine(t, notices); !strings.Contains(l, "watching changes to service") {
		t.Fatalf("watch said %q, want that it is watching", l)
	}

	steps := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		want     string
	}{
		{"create from -c", "", []string{"create", "pipeline", "-c", `{"name":"bct","services":["bct-test","bct-prod"]}`}, 0, "created"},
		{"create from stdin", `{"name":"bct-test","pipeline":"bct","zone":"lab"}`, []string{"create", "service"}, 0, "created"},
		{"merge", "", []string{"merge", "service", "bct-test", "-c", `{"status":{"deploying":true}}`}, 0, "updated"},
		{"get as json", "", []string{"get", "service", "bct-test"}, 0, `"deploying": true`},
		{"list as table", "", []string{"list", "service", "--cols", "zone"}, 0, "NAME      ZONE\nbct-test  lab\n"},
		{"history", "", []string{"history", "service", "bct-test"}, 0, "REVISION"},
		{"old revision", "", []string{"get", "service", "bct-test", "--version", "1"}, 0, `"revision": 1`},
		{"stale update", "", []string{"update", "service", "bct-test", "--if-match", "1", "-c", `{"pipeline":"bct"}`}, 1, "412 Precondition Failed"},
		{"invalid", "", []string{"create", "service", "-c", `{"name":"x"}`}, 1, "field pipeline: is required"},
		{"not json", "", []string{"create", "service", "-c", `nope`}, 1, "must be a JSON object"},
		{"delete", "", []string{"delete", "service", "bct-test"}, 0, "deleted"},
	}
	for _, s := range steps {
		out, errOut, code := stateCLI(t, p, s.stdin, s.args...)
		if code != s.wantCode || !strings.Contains(out+errOut, s.want) {
			t.Fatalf("%s: exit %d, out %q, err %q; want exit %d with %q", s.name, code, out, errOut, s.wantCode, s.want)
		}
		if code != 0 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%s: error spans several lines: %q", s.name, errOut)
		}
	}

	var got []string
	for range 3 {
		got = append(got, nextLine(t, changes))
	}
	want := []string{"created  service/bct-test revision 1", "updated  service/bct-test revision 2", "deleted  service/bct-test revision 2"}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Fatalf("watch printed %q, want lines containing %q", got, want)
		}
	}
}

// lineFeed delivers what r prints, a line at a time.
func lineFeed(r io.Reader) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

// nextLine waits at most 15 s for the next line.
func nextLine(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatal("the output ended")
		}
		return l
	case <-time.After(15 * time.Second):
		t.Fatal("no line within 15s")
	}
	return ""
}

// TestTwoServersShareState runs two `reflex serve` processes on one real
// Redis: a write through one is read and watched through the other.
func TestTwoServersShareState(t *testing.T) {
	if os.Getenv("REDIS_URL") == "" {
		t.Skip("two processes need a shared Redis: set REDIS_URL")
	}
	url := redistest.New(t).URL
	a, b := serveOn(t, url), serveOn(t, url)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.url+"/api/v1/watch?types=release", nil)
	req.Header.Set("Authorization", "Bearer "+e2eAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.Sleep(200 * time.Millisecond)

	if _, errOut, code := stateCLI(t, a, "", "create", "release", "-c", `{"name":"bct","current":{"version":"2.0.0"}}`); code != 0 {
		t.Fatalf("write through A: %s", errOut)
	}
	out, errOut, code := stateCLI(t, b, "", "get", "release", "bct")
	if code != 0 || !strings.Contains(out, `"version": "2.0.0"`) {
		t.Fatalf("read through B: %s %s", out, errOut)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var msg map[string]any
			if err := json.Unmarshal([]byte(data), &msg); err != nil || msg["name"] != "bct" || msg["op"] != "created" {
				t.Fatalf("B's watcher got %s", data)
			}
			return
		}
	}
	t.Fatalf("B's watcher saw no change: %v", sc.Err())
}
