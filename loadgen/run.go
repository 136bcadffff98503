package loadgen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reflexops/reflex/internal/periodic"
)

// Load is one run of deliveries posted to a URL.
type Load struct {
	// URL is where deliveries are posted: a Reflex source's hook URL, or
	// the baseline's.
	URL string
	// Deliveries makes the requests.
	Deliveries *Deliveries
	// Connections is how many requests are in flight at once: all the
	// time (closed loop), or at most (at a Rate).
	Connections int
	// Rate, when set, sends this many requests per second whatever the
	// answers' pace (open loop); a request that finds every connection
	// busy starts late, and its latency counts from when it was due.
	Rate float64
	// Requests and Duration bound the run; at least one must be set.
	Requests int
	Duration time.Duration
	// Client sends the requests. Default: one with Connections idle
	// connections to keep.
	Client *http.Client
	// Progress, when set, is called about once a second while the load
	// runs.
	Progress func(Progress)
}

// Progress is where a running load stands.
type Progress struct {
	Elapsed time.Duration
	Sent    int
	Failed  int
}

// Result is what a load measured.
type Result struct {
	Sent    int
	Elapsed time.Duration
	// Status counts the answers by HTTP status; Errors the requests that
	// got none.
	Status map[int]int
	Errors int
	// Late counts the requests of a rated load that started after they
	// were due, every connection being busy.
	Late int
	// Latencies are sorted, from the request's start (or, at a rate, from
	// when it was due) to the end of the answer.
	Latencies []time.Duration
	// Accepted holds the delivery ids answered 202, in order.
	Accepted []string
}

// RPS returns the answers per second.
func (r *Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent-r.Errors) / r.Elapsed.Seconds()
}

// Percentile returns the latency below which a fraction q of the answers
// came (q in [0, 1]).
func (r *Result) Percentile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := min(len(r.Latencies)-1, int(q*float64(len(r.Latencies))))
	return r.Latencies[i]
}

// sample is one request's outcome.
type sample struct {
	id      string
	status  int
	latency time.Duration
}

// Run posts deliveries until the load's bound, or ctx, ends it.
func (l *Load) Run(ctx context.Context) (*Result, error) {
	if l.Requests <= 0 && l.Duration <= 0 {
		return nil, errors.New("a load needs a number of requests, a duration, or both")
	}
	conns := max(l.Connections, 1)
	client := l.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: 90 * time.Second,
		}}
	}
	if l.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Duration)
		defer cancel()
	}
	var (
		mu      sync.Mutex
		samples = make([]sample, 0, max(l.Requests, 1024))
		issued  atomic.Int64
		failed  atomic.Int64
		late    atomic.Int64
	)
	// take claims the next request of the load, or says the load is over.
	take := func() bool {
		if ctx.Err() != nil {
			return false
		}
		n := issued.Add(1)
		return l.Requests <= 0 || n <= int64(l.Requests)
	}
	send := func(due time.Time) {
		id, h, body := l.Deliveries.Next()
		s := sample{id: id}
		req, err := http.NewRequest(http.MethodPost, l.URL, bytes.NewReader(body))
		if err == nil {
			req.Header = h
			var resp *http.Response
			if resp, err = client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				s.status = resp.StatusCode
			}
		}
		s.latency = time.Since(due)
		if err != nil || s.status >= 300 {
			failed.Add(1)
		}
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
	}
	start := time.Now()
	stopProgress := l.report(start, &failed, &mu, &samples)
	var wg sync.WaitGroup
	if l.Rate <= 0 {
		for range conns {
			wg.Go(func() {
				for take() {
					send(time.Now())
				}
			})
		}
	} else {
		due := make(chan time.Time, conns)
		for range conns {
			wg.Go(func() {
				for t := range due {
					send(t)
				}
			})
		}
		interval := time.Duration(float64(time.Second) / l.Rate)
		for i := 0; take(); i++ {
			at := start.Add(time.Duration(i) * interval)
			if d := time.Until(at); d > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(d):
				}
			}
			select {
			case due <- at:
			default:
				late.Add(1)
				due <- at
			}
		}
		close(due)
	}
	wg.Wait()
	stopProgress()
	res := &Result{Elapsed: time.Since(start), Status: map[int]int{}, Late: int(late.Load())}
	for _, s := range samples {
		res.Sent++
		if s.status == 0 {
			res.Errors++
			continue
		}
		res.Status[s.status]++
		res.Latencies = append(res.Latencies, s.latency)
		if s.status == http.StatusAccepted {
			res.Accepted = append(res.Accepted, s.id)
		}
	}
	slices.Sort(res.Latencies)
	return res, nil
}

// report calls Progress every second until the returned stop is called.
func (l *Load) report(start time.Time, failed *atomic.Int64, mu *sync.Mutex, samples *[]sample) func() {
	if l.Progress == nil {
		return func() {}
	}
	return periodic.Start(context.Background(), time.Second, func(context.Context) {
		mu.Lock()
		n := len(*samples)
		mu.Unlock()
		l.Progress(Progress{Elapsed: time.Since(start), Sent: n, Failed: int(failed.Load())})
	})
}
