package keyfetch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
)

func TestMaxAgeOf(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"nothing", nil, keyfetch.DefaultAge},
		{"max-age", map[string]string{"Cache-Control": "public, max-age=19845, must-revalidate, no-transform"}, 19845 * time.Second},
		{"max-age less Age", map[string]string{"Cache-Control": "max-age=3600", "Age": "600"}, 3000 * time.Second},
		{"short max-age kept a minute", map[string]string{"Cache-Control": "max-age=5"}, keyfetch.MinAge},
		{"long max-age kept a day", map[string]string{"Cache-Control": "max-age=9999999"}, keyfetch.MaxAge},
		{"no-cache", map[string]string{"Cache-Control": "no-cache"}, keyfetch.MinAge},
		{"Expires after Date", map[string]string{"Expires": "Fri, 02 Jan 2026 05:04:05 GMT", "Date": "Fri, 02 Jan 2026 03:04:05 GMT"}, 2 * time.Hour},
		{"Expires after now", map[string]string{"Expires": "Fri, 02 Jan 2026 04:04:05 GMT"}, time.Hour},
		{"unreadable max-age", map[string]string{"Cache-Control": "max-age=soon"}, keyfetch.DefaultAge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := keyfetch.MaxAgeOf(h, now); got != tt.want {
				t.Errorf("MaxAgeOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://www.googleapis.com/oauth2/v3/certs": true,
		"http://127.0.0.1:8080/certs":                true,
		"http://localhost/certs":                     true,
		"http://[::1]/certs":                         true,
		"http://keys.example.com/certs":              false,
		"ftp://keys.example.com/certs":               false,
		"https:///certs":                             false,
		"/certs":                                     false,
	} {
		if err := keyfetch.CheckURL(u); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", u, err, ok)
		}
	}
}

// keyServer serves a document, counting fetches; it can be taken down.
type keyServer struct {
	*httptest.Server
	fetches atomic.Int32
	down    atomic.Bool
	version atomic.Int32
}

func newKeyServer(t *testing.T, cacheControl string) *keyServer {
	k := &keyServer{}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.fetches.Add(1)
		if k.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		fmt.Fprintf(w, `{"keys":[],"v":%d}`, k.version.Load())
	}))
	t.Cleanup(k.Close)
	return k
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestCacheHonoursMaxAge: many gets, at once and later, fetch once per
// max-age.
func TestCacheHonoursMaxAge(t *testing.T) {
	srv := newKeyServer(t, "max-age=600")
	clk := &clock{now: time.Unix(1767323045, 0)}
	c := &keyfetch.Cache{Now: clk.Now}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := c.Get(context.Background(), srv.URL); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	clk.Add(9 * time.Minute)
	if _, err := c.Get(context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within max-age, want 1", n)
	}
	srv.version.Store(2)
	clk.Add(2 * time.Minute)
	body, err := c.Get(context.Background(), srv.URL)
	if err != nil || !strings.Contains(string(body), `"v":2`) || srv.fetches.Load() != 2 {
		t.Fatalf("after max-age: %s, %v, %d fetches", body, err, srv.fetches.Load())
	}
}

// TestCacheFailure: without a copy a failure is ErrUnavailable and is not
// retried for RetryAfter; with one, the stale copy serves; once the
// server is back, the next fetch after RetryAfter succeeds.
func TestCacheFailure(t *testing.T) {
	srv := newKeyServer(t, "max-age=60")
	clk := &clock{now: time.Unix(1767323045, 0)}
	c := &keyfetch.Cache{Now: clk.Now}
	srv.down.Store(true)
	for range 3 {
		_, err := c.Get(context.Background(), srv.URL)
		if !errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), "503") {
			t.Fatalf("down: err = %v, want ErrUnavailable naming the status", err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches of a failing server within RetryAfter, want 1", n)
	}
	srv.down.Store(false)
	clk.Add(keyfetch.RetryAfter)
	if _, err := c.Get(context.Background(), srv.URL); err != nil {
		t.Fatalf("back: %v", err)
	}
	srv.down.Store(true)
	clk.Add(2 * time.Minute)
	body, err := c.Get(context.Background(), srv.URL)
	if err != nil || body == nil {
		t.Fatalf("a stale copy should serve while the server is down: %v", err)
	}
	clk.Add(keyfetch.MaxStale + time.Hour)
	if _, err := c.Get(context.Background(), srv.URL); !errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("a copy past MaxStale served: %v", err)
	}
}

// TestRefresh fetches a fresh document again at most once per MinRefresh.
func TestRefresh(t *testing.T) {
	srv := newKeyServer(t, "max-age=3600")
	clk := &clock{now: time.Unix(1767323045, 0)}
	c := &keyfetch.Cache{Now: clk.Now}
	if _, err := c.Get(context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := c.Refresh(context.Background(), srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1: refreshes within MinRefresh", n)
	}
	clk.Add(keyfetch.MinRefresh)
	if _, err := c.Refresh(context.Background(), srv.URL); err != nil || srv.fetches.Load() != 2 {
		t.Fatalf("refresh after MinRefresh: %v, %d fetches", err, srv.fetches.Load())
	}
}

// TestFetchRefusesRedirectsAndPlainHTTP: a key endpoint's address is the
// configured one.
func TestFetchRefusesRedirectsAndPlainHTTP(t *testing.T) {
	target := newKeyServer(t, "")
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirect.Close()
	if _, _, err := keyfetch.Fetch(context.Background(), redirect.URL); !errors.Is(err, connectors.ErrUnavailable) || target.fetches.Load() != 0 {
		t.Errorf("redirect followed: %v, %d fetches", err, target.fetches.Load())
	}
	if _, _, err := keyfetch.Fetch(context.Background(), "http://keys.example.com/certs"); !errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), "not https") {
		t.Errorf("plain http: %v", err)
	}
}

// TestFetchTooLarge: a document over DefaultMaxBytes is refused.
func TestFetchTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, keyfetch.DefaultMaxBytes+1))
	}))
	defer srv.Close()
	if _, _, err := keyfetch.Fetch(context.Background(), srv.URL); !errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("err = %v", err)
	}
}

// TestCacheBounded: a cache keeps at most MaxEntries documents, letting
// go of the one fetched longest ago.
func TestCacheBounded(t *testing.T) {
	srv := newKeyServer(t, "max-age=3600")
	clk := &clock{now: time.Unix(1767323045, 0)}
	c := &keyfetch.Cache{Now: clk.Now}
	for i := range keyfetch.MaxEntries + 1 {
		clk.Add(time.Second)
		if _, err := c.Get(context.Background(), fmt.Sprintf("%s/%d", srv.URL, i)); err != nil {
			t.Fatal(err)
		}
	}
	before := srv.fetches.Load()
	if _, err := c.Get(context.Background(), srv.URL+"/1"); err != nil || srv.fetches.Load() != before {
		t.Fatalf("a recent document was fetched again: %v", err)
	}
	if _, err := c.Get(context.Background(), srv.URL+"/0"); err != nil || srv.fetches.Load() != before+1 {
		t.Fatalf("the oldest document was kept past the bound: %v, %d fetches", err, srv.fetches.Load()-before)
	}
}
