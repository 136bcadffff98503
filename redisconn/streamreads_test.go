package redisconn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/redisconn"
)

// Blocking stream reads answer on the embedded Redis as on a real one.
func TestBlockingReads(t *testing.T) {
	tests := []struct {
		name string
		// before runs before the read, later while it waits.
		before, later func(ctx context.Context, c *redis.Client) error
		args          redis.XReadArgs
		want          []redis.XMessage
		wantErr       error
		atLeast       time.Duration
	}{
		{
			name: "an entry added while it waits",
			later: func(ctx context.Context, c *redis.Client) error {
				return c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "5-1", Values: []string{"k", "v"}}).Err()
			},
			args:    redis.XReadArgs{Streams: []string{"s", "0-0"}, Block: 5 * time.Second},
			want:    []redis.XMessage{{ID: "5-1", Values: map[string]any{"k": "v"}}},
			atLeast: 200 * time.Millisecond,
		},
		{
			name:    "nothing within the block",
			args:    redis.XReadArgs{Streams: []string{"s", "0-0"}, Block: 300 * time.Millisecond},
			wantErr: redis.Nil,
			atLeast: 300 * time.Millisecond,
		},
		{
			name: "entries already there, counted",
			before: func(ctx context.Context, c *redis.Client) error {
				for _, id := range []string{"1-1", "2-1", "3-1"} {
					if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: id, Values: []string{"n", id}}).Err(); err != nil {
						return err
					}
				}
				return nil
			},
			args: redis.XReadArgs{Streams: []string{"s", "1-1"}, Count: 1, Block: 5 * time.Second},
			want: []redis.XMessage{{ID: "2-1", Values: map[string]any{"n": "2-1"}}},
		},
		{
			name: "entries after the id were deleted",
			before: func(ctx context.Context, c *redis.Client) error {
				if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "1-1", Values: []string{"n", "1"}}).Err(); err != nil {
					return err
				}
				if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "2-1", Values: []string{"n", "2"}}).Err(); err != nil {
					return err
				}
				return c.XDel(ctx, "s", "2-1").Err()
			},
			args:    redis.XReadArgs{Streams: []string{"s", "1-1"}, Block: 300 * time.Millisecond},
			wantErr: redis.Nil,
			atLeast: 300 * time.Millisecond,
		},
		{
			name: "the second of two streams",
			later: func(ctx context.Context, c *redis.Client) error {
				return c.XAdd(ctx, &redis.XAddArgs{Stream: "b", ID: "7-0", Values: []string{"k", "v"}}).Err()
			},
			args:    redis.XReadArgs{Streams: []string{"a", "b", "0-0", "0-0"}, Block: 5 * time.Second},
			want:    []redis.XMessage{{ID: "7-0", Values: map[string]any{"k": "v"}}},
			atLeast: 200 * time.Millisecond,
		},
		{
			name: "from the end ($)",
			before: func(ctx context.Context, c *redis.Client) error {
				return c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "1-1", Values: []string{"n", "old"}}).Err()
			},
			later: func(ctx context.Context, c *redis.Client) error {
				return c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "9-1", Values: []string{"n", "new"}}).Err()
			},
			args:    redis.XReadArgs{Streams: []string{"s", "$"}, Block: 5 * time.Second},
			want:    []redis.XMessage{{ID: "9-1", Values: map[string]any{"n": "new"}}},
			atLeast: 200 * time.Millisecond,
		},
	}
	servers := []struct {
		name   string
		client func(t *testing.T) *redis.Client
	}{
		{"embedded", func(t *testing.T) *redis.Client {
			e, err := redisconn.StartEmbedded("")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(e.Close)
			c := e.NewClient()
			t.Cleanup(func() { c.Close() })
			return c
		}},
		{"real", func(t *testing.T) *redis.Client {
			srv := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec"})
			opts, err := redis.ParseURL(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			c := redis.NewClient(opts)
			t.Cleanup(func() { c.Close() })
			return c
		}},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					c := srv.client(t)
					ctx := context.Background()
					if tt.before != nil {
						if err := tt.before(ctx, c); err != nil {
							t.Fatal(err)
						}
					}
					later := make(chan error, 1)
					if tt.later != nil {
						go func() {
							time.Sleep(tt.atLeast)
							later <- tt.later(ctx, c)
						}()
					}
					start := time.Now()
					streams, err := c.XRead(ctx, &tt.args).Result()
					took := time.Since(start)
					if tt.later != nil {
						if err := <-later; err != nil {
							t.Fatal(err)
						}
					}
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("XRead = %v, %v; want error %v", streams, err, tt.wantErr)
					}
					var got []redis.XMessage
					for _, s := range streams {
						got = append(got, s.Messages...)
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("XRead (-want +got):\n%s", diff)
					}
					if took < tt.atLeast {
						t.Errorf("XRead answered after %s, want at least %s", took, tt.atLeast)
					}
				})
			}
		})
	}
}

func TestBlockingReadEndsWithItsContext(t *testing.T) {
	e, err := redisconn.StartEmbedded("")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := e.NewClient()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "0-0"}, Block: 0}).Err()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("XRead with a 200ms context and no block limit = %v, want %v", err, context.DeadlineExceeded)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("XRead returned %s after its context ended", took)
	}
}
