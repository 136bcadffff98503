package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/reflexops/reflex/internal/redistest"
)

// TestBench: reflex bench loads a running Reflex and the baseline on the
// same Redis, in turn, and reports both with their ratios; every delivery
// is accepted and read back processed.
func TestBench(t *testing.T) {
	redisURL, extra := "", []string(nil)
	if os.Getenv("REDIS_URL") != "" {
		redisURL = redistest.New(t).URL
	} else {
		addr := freeAddr(t)
		extra = []string{"--embedded-redis-addr", addr}
		redisURL = "redis://" + addr + "/0"
	}
	var p *process
	if len(extra) > 0 {
		p = serveOn(t, "", extra...)
	} else {
		p = serveOn(t, redisURL)
	}
	out, errOut, code := reflexCmd(t, []string{"REFLEX_APIKEY=" + e2eAdminKey, "REDIS_URL=" + redisURL},
		"bench", "--url", p.url, "--source", "acme-github", "--secret", e2eSecret, "--requests", "300", "--connections", "4",
		"--baseline", "--reps", "2", "--json")
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut)
	}
	var report struct {
		Rounds []struct {
			Target   string
			Sent     int
			Accepted int
			Readback *struct{ Checked, Processed, Missing int }
		}
		Summary []struct {
			Metric                  string
			Reflex, Baseline, Ratio float64
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	if len(report.Rounds) != 4 || report.Rounds[0].Target != "reflex" || report.Rounds[1].Target != "baseline" {
		t.Fatalf("rounds = %+v, want reflex and baseline in turn, twice", report.Rounds)
	}
	for _, r := range report.Rounds {
		if r.Sent != 300 || r.Accepted != 300 {
			t.Errorf("%s: %d sent, %d accepted; want 300 and 300", r.Target, r.Sent, r.Accepted)
		}
		if r.Target == "reflex" && (r.Readback == nil || r.Readback.Processed != 300 || r.Readback.Missing != 0) {
			t.Errorf("reflex read back %+v, want 300 processed", r.Readback)
		}
	}
	rps := report.Summary[0]
	if rps.Metric != "requests per second" || rps.Reflex <= 0 || rps.Baseline <= 0 || rps.Ratio <= 0 {
		t.Errorf("summary = %+v", rps)
	}
	if !strings.Contains(errOut, "round 2/2, baseline") {
		t.Errorf("no progress lines: %s", errOut)
	}

	_, errOut, code = reflexCmd(t, nil, "bench", "--url", "http://203.0.113.7:8080", "--source", "s", "--secret", "x")
	if code != 1 || !strings.Contains(errOut, "not this machine") {
		t.Errorf("a remote target: %d %s", code, errOut)
	}

	// --hold: each queue is paused during its load, so every job is
	// still queued when the load ends, and the drain gives a rate.
	env := []string{"REFLEX_APIKEY=" + e2eAdminKey, "REDIS_URL=" + redisURL}
	out, errOut, code = reflexCmd(t, env, "bench", "--url", p.url, "--source", "acme-github", "--secret", e2eSecret,
		"--requests", "200", "--connections", "4", "--baseline", "--hold", "--json")
	if code != 0 {
		t.Fatalf("bench --hold exited %d: %s", code, errOut)
	}
	var held struct {
		Rounds []struct {
			Target  string
			Held    bool
			Backlog []int
		}
		Summary []struct {
			Metric           string
			Reflex, Baseline *float64
		}
	}
	if err := json.Unmarshal([]byte(out), &held); err != nil {
		t.Fatalf("bench --hold --json: %v\n%s", err, out)
	}
	for _, r := range held.Rounds {
		if !r.Held {
			t.Errorf("%s's round was not held", r.Target)
		}
	}
	var rate bool
	for _, m := range held.Summary {
		if m.Metric == "processing rate, held jobs" {
			rate = m.Reflex != nil && *m.Reflex > 0 && m.Baseline != nil && *m.Baseline > 0
		}
	}
	if !rate {
		t.Errorf("no processing rate of held jobs for both: %s", out)
	}

	// --sustain: the baseline's burst is measured, then each round holds
	// a fraction of it.
	out, errOut, code = reflexCmd(t, env, "bench", "--url", p.url, "--source", "acme-github", "--secret", e2eSecret,
		"--requests", "200", "--connections", "4", "--baseline", "--sustain", "0.25", "--duration", "2s", "--json")
	if code != 0 {
		t.Fatalf("bench --sustain exited %d: %s", code, errOut)
	}
	var sustained struct {
		Settings struct{ Rate float64 }
		Rounds   []struct {
			Target string
			Sent   int
		}
	}
	if err := json.Unmarshal([]byte(out), &sustained); err != nil {
		t.Fatalf("bench --sustain --json: %v\n%s", err, out)
	}
	if sustained.Settings.Rate <= 0 || !strings.Contains(errOut, "the baseline's burst") {
		t.Fatalf("bench --sustain held no rate (%v): %s", sustained.Settings.Rate, errOut)
	}
	for _, r := range sustained.Rounds {
		if want := 2 * sustained.Settings.Rate; float64(r.Sent) < want*0.8 || float64(r.Sent) > want*1.05 {
			t.Errorf("%s sent %d in 2 s at %.0f/s, want about %.0f", r.Target, r.Sent, sustained.Settings.Rate, want)
		}
	}
	_, errOut, code = reflexCmd(t, env, "bench", "--url", p.url, "--source", "acme-github", "--secret", e2eSecret, "--sustain", "0.5")
	if code != 1 || !strings.Contains(errOut, "--sustain needs --baseline") {
		t.Errorf("--sustain alone: %d %s", code, errOut)
	}
}
