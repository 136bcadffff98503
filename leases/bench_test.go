package leases_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/leases"
)

// BenchmarkOfferToNext measures how long a job offered on one replica takes
// to be leased by a poll waiting on another, against a bare XADD read by a
// waiting XREAD BLOCK on the same Redis, and reports the percentiles.
func BenchmarkOfferToNext(b *testing.B) {
	r := redistest.New(b)
	run := 0
	b.Run("leases", func(b *testing.B) {
		run++ // job ids of earlier runs are remembered as finished
		poller := newQueue(b, replica(b, r), func(q *leases.Queue) { q.Recheck = time.Hour })
		offerer := newQueue(b, r.Client)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got, done := make(chan time.Time, 1), make(chan struct{})
		go func() {
			defer close(done)
			for {
				l, err := poller.Next(ctx, zone, "bench", time.Minute)
				if err != nil {
					return
				}
				if l == nil {
					continue
				}
				got <- time.Now()
				if err := poller.Finish(context.WithoutCancel(ctx), zone, l.JobID, l.LeaseID); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			waitParked(b, poller, zone, 1)
			b.StartTimer()
			start := time.Now()
			if err := offerer.Offer(ctx, zone, fmt.Sprintf("d-%d-%d", run, i), []byte("job"), start.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, (<-got).Sub(start))
		}
		b.StopTimer()
		cancel()
		<-done
		reportPercentiles(b, lat)
	})
	b.Run("xadd-xread", func(b *testing.B) {
		reader := replica(b, r)
		const stream = "bench:xread"
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := r.Client.Del(ctx, stream).Err(); err != nil {
			b.Fatal(err)
		}
		ready, got, done := make(chan struct{}, 1), make(chan time.Time, 1), make(chan struct{})
		go func() {
			defer close(done)
			last := "0-0"
			for {
				select {
				case ready <- struct{}{}:
				case <-ctx.Done():
					return
				}
				res, err := reader.XRead(ctx, &redis.XReadArgs{Streams: []string{stream, last}, Count: 1, Block: time.Minute}).Result()
				if err != nil {
					return
				}
				last = res[0].Messages[0].ID
				select {
				case got <- time.Now():
				case <-ctx.Done():
					return
				}
			}
		}()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			<-ready
			b.StartTimer()
			start := time.Now()
			if err := r.Client.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"job", "x"}}).Err(); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, (<-got).Sub(start))
		}
		b.StopTimer()
		reportPercentiles(b, lat)
		// One more entry ends the read, which then finds ctx cancelled.
		cancel()
		if err := r.Client.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: []any{"job", "last"}}).Err(); err != nil {
			b.Fatal(err)
		}
		<-done
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
