package github

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRateLimitsWaitedOut(t *testing.T) {
	resetIn := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }
	tests := []struct {
		name string
		a    func() answer
		why  string
	}{
		{"primary: 403, X-RateLimit-Remaining 0", func() answer {
			return answer{status: 403, header: map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": resetIn(0)},
				body: `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`}
		}, "GitHub's rate limit is used up"},
		{"primary: 429, X-RateLimit-Remaining 0", func() answer {
			return answer{status: 429, header: map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": resetIn(0)},
				body: `{"message":"API rate limit exceeded"}`}
		}, "GitHub's rate limit is used up"},
		{"secondary: 403, Retry-After", func() answer {
			return answer{status: 403, header: map[string]string{"Retry-After": "1"},
				body: `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}
		}, "GitHub's secondary rate limit"},
		{"plain 429, Retry-After", func() answer {
			return answer{status: 429, header: map[string]string{"Retry-After": "1"}, body: `{"message":"Too Many Requests"}`}
		}, "GitHub's rate limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.setHooks("repos/acme/api", &fakeHook{ID: 1, URL: "https://x.example/", ContentType: "json", Events: []string{"push"}, Active: true})
			f.answerOnce("GET /repos/acme/api/hooks", tt.a())
			p := f.provider(t)
			var pr progress
			start := time.Now()
			got, err := p.List(pr.ctx(context.Background()), repoAPI)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Errorf("List after the wait: %d hooks, want 1", len(got))
			}
			if n := len(f.got("GET /repos/acme/api/hooks")); n != 2 {
				t.Errorf("%d requests, want the limited one and its retry", n)
			}
			if !pr.has(tt.why) || !pr.has("waiting") {
				t.Errorf("the wait was not reported with %q: %q", tt.why, pr.String())
			}
			if el := time.Since(start); el < 900*time.Millisecond {
				t.Errorf("retried after %s, before the limit's end", el)
			}
		})
	}
}

func TestRateLimitBounded(t *testing.T) {
	f := newFake(t)
	f.setHooks("repos/acme/api")
	f.answerAlways("GET /repos/acme/api/hooks", answer{status: 429, header: map[string]string{"Retry-After": "0"}, body: `{"message":"Too Many Requests"}`})
	p := f.provider(t)
	_, err := p.List(context.Background(), repoAPI)
	if err == nil || !strings.Contains(err.Error(), "still after 5 waits") {
		t.Fatalf("List: %v, want it to give up after 5 waits", err)
	}
	if n := len(f.got("GET /repos/acme/api/hooks")); n != 6 {
		t.Errorf("%d requests, want 1 and 5 retries", n)
	}
}

func TestRateLimitWaitCancelled(t *testing.T) {
	f := newFake(t)
	f.setHooks("repos/acme/api")
	f.answerAlways("GET /repos/acme/api/hooks", answer{status: 403, header: map[string]string{"Retry-After": "60"},
		body: `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`})
	p := f.provider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.List(ctx, repoAPI)
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("List: %v, want the context's end", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("the wait outlived its context: %s", el)
	}
}
