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

func TestWrittenKeys(t *testing.T) {
	tests := []struct {
		args []any
		want []string
	}{
		{[]any{"evalsha", "abc123", 2, "reflex:objects:x", "reflex:changes", "arg"}, []string{"reflex:objects:x", "reflex:changes"}},
		{[]any{"eval", "return 1", int64(0)}, []string{}},
		{[]any{"xadd", "reflex:changes", "*", "op", "created"}, []string{"reflex:changes"}},
		{[]any{"fcall", "f", "1", "k"}, []string{"k"}},
		{[]any{"evalsha", "abc123", 3, "only-one"}, nil},
		{[]any{"set", "k", "v"}, nil},
		{[]any{"get", "k"}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		if got := writtenKeys(tt.args); !cmp.Equal(got, tt.want) {
			t.Errorf("writtenKeys(%v) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// A write that names a stream returns only once a read waiting on that
// stream has its entry, as on a real server; other writes wake nothing.
func TestWriteReachesWaitingReadBeforeItReturns(t *testing.T) {
	e, err := StartEmbedded("")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	h := newPollReads(time.Hour) // no timed polls: only writes wake the read
	c := redis.NewClient(&redis.Options{Addr: e.Addr()})
	c.AddHook(h)
	defer c.Close()
	ctx := context.Background()
	waiting := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.waiting)
	}

	got := make(chan []redis.XStream, 1)
	go func() {
		streams, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "0-0"}, Block: 10 * time.Second}).Result()
		if err != nil {
			t.Errorf("XRead: %v", err)
		}
		got <- streams
	}()
	for deadline := time.Now().Add(5 * time.Second); waiting() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the read never started waiting")
		}
	}
	add := `return redis.call("XADD", KEYS[1], "*", "n", "1")`
	if err := c.Eval(ctx, add, []string{"other"}).Err(); err != nil {
		t.Fatal(err)
	}
	if n := waiting(); n != 1 {
		t.Fatalf("%d reads waiting after a write to another stream, want 1", n)
	}
	if err := c.Eval(ctx, add, []string{"s"}).Err(); err != nil {
		t.Fatal(err)
	}
	if n := waiting(); n != 0 {
		t.Fatalf("%d reads still waiting when the write to their stream returned, want 0", n)
	}
	if streams := <-got; len(streams) != 1 || streams[0].Stream != "s" || len(streams[0].Messages) != 1 {
		t.Fatalf("XRead = %+v, want the one new entry of s", streams)
	}
}
