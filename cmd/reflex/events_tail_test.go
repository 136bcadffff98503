package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tailLines starts `reflex events tail` with args and returns its output
// lines as they come.
func tailLines(t *testing.T, p *process, args ...string) <-chan string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"events", "tail", "--url", p.url}, args...)...)
	cmd.Env = append(os.Environ(), "REFLEX_APIKEY="+e2eAdminKey)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut syncBuffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("tail's stderr:\n%s", errOut.String())
		}
	})
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errOut.String(), "following new deliveries") {
		if time.Now().After(deadline) {
			t.Fatalf("tail did not start: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return lines
}

// nextMatching waits for a line that match accepts.
func nextMatching(t *testing.T, lines <-chan string, what string, match func(string) bool) string {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("tail ended before %s", what)
			}
			if match(l) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %s within 15s", what)
		}
	}
}

// TestEventsTail follows deliveries live: as JSON lines for scripts, and
// as aligned lines for people, with the filters applied by the server.
func TestEventsTail(t *testing.T) {
	p := serve(t)
	jsonLines := tailLines(t, p, "-o", "json")
	refusals := tailLines(t, p, "--outcome", "refused")

	sendPush(t, p, "tail-1")
	_, _, _ = reflexCmd(t, nil, "send", "--url", p.url, "--source", "acme-github", "--secret", "wrong", "../../fixtures/github/push.branch.json")

	processed := nextMatching(t, jsonLines, "the processed event", func(l string) bool {
		var it feedItem
		return json.Unmarshal([]byte(l), &it) == nil && it.Event != nil && it.Event.ID == "tail-1" && it.Event.Status == "processed"
	})
	if !strings.Contains(processed, `"outcome":"accepted"`) {
		t.Errorf("JSON line = %s, want the outcome", processed)
	}
	line := nextMatching(t, refusals, "the refusal", func(string) bool { return true })
	fields := strings.Fields(line)
	if len(fields) < 3 || fields[1] != "refused" || fields[2] != "acme-github" || !strings.Contains(line, "unauthorized: signature verification failed") {
		t.Errorf("refusal line = %q, want time, refused, the source and the reason", line)
	}
	if strings.Contains(line, "tail-1") {
		t.Errorf("--outcome refused printed the accepted event: %q", line)
	}
	_, stderr, code := reflexCmd(t, []string{"REFLEX_APIKEY=" + e2eAdminKey}, "events", "tail", "--url", p.url, "--outcome", "maybe")
	if code != 1 || !strings.Contains(stderr, "outcome must be") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("tail --outcome maybe = %d %q, want one line naming the outcomes", code, stderr)
	}
}
