package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/internal/ratelimit"
	"github.com/reflexops/reflex/internal/testclock"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/state"
)

// limitStep is one request of a rate limit test, after the clock moved by
// advance, and the status and Retry-After it must get.
type limitStep struct {
	advance   time.Duration
	path      string
	want      int
	wantRetry string
}

// TestWebhookRateLimit: a source limited to a small burst answers 429
// with Retry-After (seconds, from its bucket) beyond it, and 202 again
// once the clock moved by that; other sources are unaffected; names no
// source has share one bucket. Each refusal is counted with reason
// rate_limited and recorded in the intake log.
func TestWebhookRateLimit(t *testing.T) {
	tests := []struct {
		name        string
		serverRate  ratelimit.Rate
		steps       []limitStep
		wantRefused map[string]float64 // rate_limited refusals by source label
	}{{
		name: "a source's own limit",
		steps: []limitStep{
			{0, "/hooks/acme-github", 202, ""},
			{0, "/hooks/acme-github", 202, ""},
			{0, "/hooks/acme-github", 429, "2"},
			{0, "/hooks/other-github", 202, ""},
			{0, "/hooks/other-github", 202, ""},
			{0, "/hooks/other-github", 202, ""},
			{0, "/hooks/nowhere", 404, ""},
			{0, "/hooks/nowhere", 404, ""},
			{time.Second, "/hooks/acme-github", 429, "1"},
			{time.Second, "/hooks/acme-github", 202, ""},
			{0, "/hooks/acme-github", 429, "2"},
		},
		wantRefused: map[string]float64{"acme-github": 3},
	}, {
		name:       "the server's default, and the bucket unknown names share",
		serverRate: ratelimit.Rate{PerSecond: 0.25, Burst: 1},
		steps: []limitStep{
			{0, "/hooks/nowhere", 404, ""},
			{0, "/hooks/elsewhere", 429, "4"},
			{0, "/hooks/other-github", 202, ""},
			{0, "/hooks/other-github", 429, "4"},
			{0, "/hooks/acme-github", 202, ""},
			{0, "/hooks/acme-github", 202, ""},
			{4 * time.Second, "/hooks/other-github", 202, ""},
			{0, "/hooks/elsewhere", 404, ""},
		},
		wantRefused: map[string]float64{"": 1, "other-github": 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The clock stands still, so buckets refill only when the test says.
			clock := testclock.New(time.Now())
			rdb := newRedis(t)
			in := start(t, rdb, logOnFailure(t), func(o *server.Options) {
				o.Worker, o.Now, o.WebhookRate = false, clock.Now, tt.serverRate
				acme := &o.Config.Sources[0]
				acme.RateLimit = &ratelimit.Rate{PerSecond: 0.5, Burst: 2}
				o.Config.Sources = append(o.Config.Sources, config.SourceSpec{Name: "other-github", Connector: "github", Secrets: []string{"env:REFLEX_TEST_SECRET"}})
			})
			f := fixture(t, "push.branch")
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				g := withID(f, fmt.Sprintf("rate-%d", i))
				r := post(t, in.URL+s.path, signedHeaders(g, g.Body, testSecret), g.Body)
				if r.Code != s.want || r.RetryAfter != s.wantRetry {
					t.Fatalf("step %d, %s: got %d (Retry-After %q) %s, want %d (Retry-After %q)", i, s.path, r.Code, r.RetryAfter, r.Body, s.want, s.wantRetry)
				}
				if r.Code == http.StatusTooManyRequests && (r.Status != "failed" || r.Message == "") {
					t.Errorf("step %d: got the body %s, want a JSON failure with a message", i, r.Body)
				}
			}

			got := map[string]float64{}
			samples := scrape(t, in)
			for _, source := range []string{"", "acme-github", "other-github"} {
				connector := "github"
				if source == "" {
					connector = ""
				}
				if n := samples.Get("reflex_webhook_refusals_total", "source", source, "connector", connector, "reason", "rate_limited"); n > 0 {
					got[source] = n
				}
			}
			if diff := cmp.Diff(tt.wantRefused, got); diff != "" {
				t.Errorf("rate_limited refusals by source (-want +got):\n%s", diff)
			}
			entries, err := state.New(rdb, state.Options{}).RecentIntake(context.Background(), 100)
			if err != nil {
				t.Fatal(err)
			}
			logged := map[string]float64{}
			for _, e := range entries {
				if e.Reason == "rate_limited" && e.Status == http.StatusTooManyRequests && e.Outcome == "refused" {
					logged[e.Source]++
				}
			}
			if diff := cmp.Diff(tt.wantRefused, logged); diff != "" {
				t.Errorf("rate_limited refusals in the intake log (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAPIKeyRateLimit: an API key beyond its burst gets 429 with
// Retry-After, and is served again once its bucket refilled; other keys
// have buckets of their own, and the master key and agents' keys are not
// limited.
func TestAPIKeyRateLimit(t *testing.T) {
	// The clock stands still, so buckets refill only when the test says.
	clock := testclock.New(time.Now())
	in := start(t, newRedis(t), logOnFailure(t), func(o *server.Options) {
		o.Worker, o.Now, o.APIRate = false, clock.Now, ratelimit.Rate{PerSecond: 0.5, Burst: 2}
	})
	ci, other := newKey(t, in, "ci"), newKey(t, in, "other")
	agentResp, _ := master(t, in, "POST", "/api/v1/apikey", `{"name":"edge","kind":"agent","zone":"production"}`)
	var created struct{ Key string }
	decode(t, agentResp, &created)
	if agentResp.Code != http.StatusCreated {
		t.Fatalf("create an agent's key: %d %s", agentResp.Code, agentResp.Body)
	}

	callers := []struct {
		name, key string
		// want is the status class of each call: "ok" (anything but
		// 429) or a Retry-After.
		want []string
	}{
		{"a key", ci, []string{"ok", "ok", "2", "2"}},
		{"another key", other, []string{"ok", "ok", "2"}},
		{"the master key", adminKey, []string{"ok", "ok", "ok", "ok", "ok"}},
		{"an agent's key", created.Key, []string{"ok", "ok", "ok", "ok", "ok"}},
	}
	for _, c := range callers {
		var got []string
		for range c.want {
			r := keyGet(t, in, c.key, "/api/v1/events")
			switch {
			case r.Code != http.StatusTooManyRequests:
				got = append(got, "ok")
			case r.Status != "failed" || r.Message == "":
				t.Errorf("%s: got the 429 body %s, want a JSON failure with a message", c.name, r.Body)
				fallthrough
			default:
				got = append(got, r.RetryAfter)
			}
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: answers (-want +got):\n%s", c.name, diff)
		}
	}
	clock.Advance(2 * time.Second)
	if r := keyGet(t, in, ci, "/api/v1/events"); r.Code == http.StatusTooManyRequests {
		t.Errorf("a key whose bucket refilled: got %d %s, want it served", r.Code, r.Body)
	}
}

// keyGet reads an API path with key.
func keyGet(t *testing.T, in *instance, key, path string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, in.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	return do(t, req)
}

// TestMaxConnections: with a cap of two connections, two idle keep-alive
// connections hold the server, a third gets no answer while they are
// open, and is answered as soon as one of them closes.
func TestMaxConnections(t *testing.T) {
	in := start(t, newRedis(t), logOnFailure(t), func(o *server.Options) {
		o.Worker, o.MaxConnections = false, 2
	})
	// The start's readiness check left a keep-alive connection.
	client.CloseIdleConnections()
	addr := in.URL[len("http://"):]
	first, second := dialServed(t, addr), dialServed(t, addr)
	defer second.Close()

	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if _, err := third.Write([]byte("GET /healthz HTTP/1.1\r\nHost: reflex\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	rd := bufio.NewReader(third)
	if resp, err := http.ReadResponse(rd, nil); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection over the cap of two: got %v (%v), want no answer", resp, err)
	}

	first.Close()
	third.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("the third connection once one closed: %v, want an answer", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the third connection once one closed: got %d, want 200", resp.StatusCode)
	}
}

// dialServed opens a connection to addr and has one request answered on
// it, so the server holds it, idle, until the test closes it.
func dialServed(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: reflex\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("a connection under the cap: %v, want an answer", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a connection under the cap: got %d, want 200", resp.StatusCode)
	}
	return conn
}
