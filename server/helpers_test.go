package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/server"
)

const (
	testSecret = "webhook-secret-for-tests"
	adminKey   = "admin-key-for-tests"
)

// instance is a running Reflex on a real socket.
type instance struct {
	URL   string
	Redis redis.UniversalClient
}

// start runs Reflex with one GitHub source, "acme-github", on rdb until the
// test ends. tweaks change the options before the start.
func start(t testing.TB, rdb redis.UniversalClient, tweaks ...func(*server.Options)) *instance {
	t.Helper()
	t.Setenv("REFLEX_TEST_SECRET", testSecret)
	t.Setenv("REFLEX_TEST_OLD_SECRET", "old-secret")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := server.Options{
		Redis:    rdb,
		Log:      testLogger(),
		HTTP:     true,
		Worker:   true,
		Listener: ln,
		Config: &config.Config{Sources: []config.SourceSpec{{
			Name: "acme-github", Connector: "github", Secrets: []string{"env:REFLEX_TEST_OLD_SECRET", "env:REFLEX_TEST_SECRET"},
		}}},
		AdminKey:        adminKey,
		Concurrency:     4,
		PollInterval:    10 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second,
	}
	for _, tweak := range tweaks {
		if tweak != nil {
			tweak(&opts)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return within 20s of shutdown")
		}
	})
	in := &instance{URL: "http://" + ln.Addr().String(), Redis: rdb}
	if opts.HTTP {
		req, _ := http.NewRequest(http.MethodGet, in.URL+"/readyz", nil)
		if r := do(t, req); r.Code != http.StatusOK {
			t.Fatalf("not ready: %d %s", r.Code, r.Body)
		}
	}
	return in
}

func testLogger() *slog.Logger {
	if os.Getenv("REFLEX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// logOnFailure sends the server's warnings and errors to the test's log
// when the test fails, so a failure shows what the server saw.
func logOnFailure(t testing.TB) func(*server.Options) {
	var buf syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (warnings and errors):\n%s", buf.String())
		}
	})
	return func(o *server.Options) {
		o.Log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture loads a GitHub fixture, failing the test if it is missing.
func fixture(t testing.TB, name string) fixtures.Fixture {
	t.Helper()
	f, err := fixtures.Get(github.Name, name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// signedHeaders returns the fixture's headers signed with secret.
func signedHeaders(f fixtures.Fixture, body []byte, secret string) http.Header {
	h := f.Header.Clone()
	github.New().(connectors.Signer).Sign(h, body, []byte(secret))
	return h
}

// reply is a decoded JSON answer.
type reply struct {
	Code       int
	Status     string `json:"status"`
	Message    string `json:"message"`
	ID         string `json:"id"`
	RetryAfter string
	Body       []byte
}

var client = &http.Client{Timeout: 30 * time.Second}

// post sends a body with headers to path.
func post(t testing.TB, url string, h http.Header, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	return do(t, req)
}

// deliver posts a fixture, signed, to the acme-github source.
func deliver(t testing.TB, in *instance, f fixtures.Fixture) reply {
	t.Helper()
	return post(t, in.URL+"/hooks/acme-github", signedHeaders(f, f.Body, testSecret), f.Body)
}

// apiGet reads an /api path with the admin key.
func apiGet(t testing.TB, in *instance, path string, out any) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, in.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	r := do(t, req)
	if out != nil && r.Code == http.StatusOK {
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("decode %s: %v in %s", path, err, r.Body)
		}
	}
	return r
}

func do(t testing.TB, req *http.Request) reply {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := reply{Code: resp.StatusCode, Body: body, RetryAfter: resp.Header.Get("Retry-After")}
	_ = json.Unmarshal(body, &r)
	return r
}

// waitProcessed polls the API until the event is processed and returns it.
func waitProcessed(t testing.TB, in *instance, id string) *event.Event {
	t.Helper()
	return waitProcessedWithin(t, in, id, 15*time.Second)
}

// waitProcessedWithin is waitProcessed with a chosen patience.
func waitProcessedWithin(t testing.TB, in *instance, id string, patience time.Duration) *event.Event {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		var ev event.Event
		r := apiGet(t, in, "/api/v1/events/"+id, &ev)
		if r.Code == http.StatusOK && ev.Status == event.StatusProcessed {
			return &ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not processed within %s: last answer %d %s", id, patience, r.Code, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitJobDone waits until the job with task id on queue has run to its end
// and is gone: asynq counts a job as processed in the same step.
func waitJobDone(t testing.TB, rdb redis.UniversalClient, queue, id string) {
	t.Helper()
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	for range 750 {
		_, err := inspector.GetTaskInfo(queue, id)
		if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %s of queue %s still there after 15s", id, queue)
}

// decisionFor returns the decision of the given action in an event's
// trail, failing the test when there is not exactly one.
func decisionFor(t testing.TB, trail []map[string]any, action string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, d := range trail {
		if d["action"] == action {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s decisions in the trail %v, want 1", len(found), action, trail)
	}
	return found[0]
}

// newRedis returns the test's Redis: embedded, or a leased database of the
// real server when REDIS_URL is set.
func newRedis(t testing.TB) *redis.Client { return redistest.New(t).Client }
