package redisconn_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/redisconn"
)

func TestCheckEviction(t *testing.T) {
	tests := []struct {
		name string
		// args start the private server; nil means the embedded one.
		args []string
		// user, when set, connects as an ACL user created with these rules.
		user        []string
		want        error
		wantInError []string
	}{
		{name: "embedded", want: nil},
		{name: "noeviction", args: []string{"--maxmemory-policy", "noeviction"}, want: nil},
		{name: "allkeys-lru", args: []string{"--maxmemory-policy", "allkeys-lru"}, want: redisconn.ErrEviction,
			wantInError: []string{"allkeys-lru", "CONFIG SET maxmemory-policy noeviction", "redis.conf"}},
		{name: "volatile-ttl", args: []string{"--maxmemory-policy", "volatile-ttl", "--maxmemory", "100mb"}, want: redisconn.ErrEviction,
			wantInError: []string{"volatile-ttl"}},
		{name: "CONFIG refused", args: []string{"--maxmemory-policy", "allkeys-lru"}, user: []string{"~*", "&*", "+@all", "-config"},
			want: redisconn.ErrEvictionUnchecked, wantInError: []string{"make sure it is noeviction"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rawURL := ""
			if tt.args != nil {
				srv := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec", Args: tt.args})
				rawURL = srv.URL
				if tt.user != nil {
					rawURL = withUser(t, srv.URL, tt.user)
				}
			}
			c, err := redisconn.Open(context.Background(), rawURL, "", slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.CheckEviction(context.Background())
			t.Logf("CheckEviction: %v", err)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckEviction = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckEviction = %v, want an error wrapping %q", err, tt.want)
			}
			for _, other := range []error{redisconn.ErrEviction, redisconn.ErrEvictionUnchecked} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("CheckEviction = %v, which also wraps %q", err, other)
				}
			}
			for _, s := range tt.wantInError {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("CheckEviction = %q, want it to mention %q", err, s)
				}
			}
		})
	}
}

func TestCheckEvictionOnAStoppedServer(t *testing.T) {
	srv := redistest.StartServer(t)
	c, err := redisconn.Open(context.Background(), srv.URL, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv.Stop()
	err = c.CheckEviction(context.Background())
	if err == nil || errors.Is(err, redisconn.ErrEviction) || errors.Is(err, redisconn.ErrEvictionUnchecked) {
		t.Fatalf("CheckEviction on a stopped server = %v, want a connection error", err)
	}
}

// withUser creates an ACL user with rules on the server at rawURL and
// returns a URL that logs in as it.
func withUser(t *testing.T, rawURL string, rules []string) string {
	t.Helper()
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(opts)
	defer admin.Close()
	args := []any{"ACL", "SETUSER", "limited", "on", ">limited-password"}
	for _, r := range rules {
		args = append(args, r)
	}
	if err := admin.Do(context.Background(), args...).Err(); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("limited", "limited-password")
	return u.String()
}
