package redisconn

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

func TestParseBlockingRead(t *testing.T) {
	tests := []struct {
		name string
		args []any
		want *blockingRead // nil: left to the server
	}{
		{
			name: "the hub's read",
			args: []any{"xread", "count", int64(256), "block", int64(5000), "streams", "reflex:changes", "17-3"},
			want: &blockingRead{
				args:  []any{"xread", "count", int64(256), "streams", "reflex:changes", "17-3"},
				block: 5 * time.Second, streams: []string{"reflex:changes"}, ids: []string{"17-3"},
			},
		},
		{
			name: "two streams, no limit",
			args: []any{"xread", "block", int64(0), "streams", "a", "b", "1", "2-0"},
			want: &blockingRead{
				args:    []any{"xread", "streams", "a", "b", "1", "2-0"},
				streams: []string{"a", "b"}, ids: []string{"1", "2-0"},
			},
		},
		{name: "no block", args: []any{"xread", "count", int64(1), "streams", "s", "0-0"}},
		{name: "from the end", args: []any{"xread", "block", int64(100), "streams", "s", "$"}},
		{name: "odd streams", args: []any{"xread", "block", int64(100), "streams", "s", "t", "0"}},
		{name: "negative block", args: []any{"xread", "block", int64(-1), "streams", "s", "0"}},
		{name: "unknown option", args: []any{"xread", "noack", "block", int64(100), "streams", "s", "0"}},
		{name: "no streams", args: []any{"xread", "block", int64(100)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseBlockingRead(tt.args)
			if tt.want == nil {
				if ok {
					t.Fatalf("parseBlockingRead(%v) = %+v, want it left to the server", tt.args, got)
				}
				return
			}
			if !ok {
				t.Fatalf("parseBlockingRead(%v) refused it", tt.args)
			}
			if diff := cmp.Diff(*tt.want, got, cmp.AllowUnexported(blockingRead{})); diff != "" {
				t.Errorf("parseBlockingRead (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStreamIDLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"0-0", "1-0", true},
		{"1-0", "1-0", false},
		{"1-2", "1-10", true},
		{"2-0", "10-0", true},
		{"1", "1-1", true},
		{"1-1", "1", false},
		{"5-0", "", false},
	}
	for _, tt := range tests {
		if got := streamIDLess(tt.a, tt.b); got != tt.want {
			t.Errorf("streamIDLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// A client of the embedded server waits for a stream entry by polling,
// not inside the server.
func TestEmbeddedClientPollsBlockingReads(t *testing.T) {
	e, err := StartEmbedded("")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := e.NewClient()
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil { // opens the connection
		t.Fatal(err)
	}
	before := e.mini.CommandCount()
	err = c.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "0-0"}, Block: 300 * time.Millisecond}).Err()
	if !errors.Is(err, redis.Nil) {
		t.Fatalf("XRead = %v, want %v", err, redis.Nil)
	}
	if n := e.mini.CommandCount() - before; n < 5 {
		t.Fatalf("the server saw %d commands during a 300ms read, want a poll every %s", n, readPoll)
	}
}
