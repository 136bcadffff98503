package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The state API benchmarks run through a real socket against the test's
// Redis (a real one when REDIS_URL is set). The Redis baselines do one GET
// or SET of a document of the same size on the same Redis, so the ratios
// hold on a noisy machine.

const benchDoc = `{"name":"bct-prod","pipeline":"bct","zone":"dc1","release":"1.4.2","status":{"deploying":false},"region":"eu-west","lane":"prd"}`

func BenchmarkObjectRead(b *testing.B) {
	in := start(b, newRedis(b), nil)
	if r, _ := master(b, in, "POST", "/api/v1/service", benchDoc); r.Code != 201 {
		b.Fatalf("create: %d %s", r.Code, r.Body)
	}
	req, _ := http.NewRequest("GET", in.URL+"/api/v1/service/bct-prod", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("read: %v %v", resp, err)
		}
		drain(resp)
	}
}

func BenchmarkObjectConditionalWrite(b *testing.B) {
	in := start(b, newRedis(b), nil)
	if r, _ := master(b, in, "POST", "/api/v1/service", benchDoc); r.Code != 201 {
		b.Fatalf("create: %d %s", r.Code, r.Body)
	}
	revision := 1
	b.ReportAllocs()
	for b.Loop() {
		body := strings.Replace(benchDoc, `"1.4.2"`, fmt.Sprintf(`"1.4.%d"`, revision+2), 1)
		req, _ := http.NewRequest("PUT", in.URL+"/api/v1/service/bct-prod", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", fmt.Sprintf(`"%d"`, revision))
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("write: %v %v", resp, err)
		}
		drain(resp)
		revision++
	}
}

func BenchmarkBaselineRedisGet(b *testing.B) {
	rdb := newRedis(b)
	ctx := context.Background()
	if err := rdb.Set(ctx, "bench", benchDoc, 0).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rdb.Get(ctx, "bench").Err(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineRedisSet(b *testing.B) {
	rdb := newRedis(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := rdb.Set(ctx, "bench", benchDoc, 0).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWatchFanout100 measures, per change, the time from the write
// request until all of 100 connected watchers have received the change.
func BenchmarkWatchFanout100(b *testing.B) {
	in := start(b, newRedis(b), nil)
	if r, _ := master(b, in, "POST", "/api/v1/service", benchDoc); r.Code != 201 {
		b.Fatalf("create: %d %s", r.Code, r.Body)
	}
	const watchers = 100
	chans := make([]<-chan sseEvent, watchers)
	for i := range chans {
		ch, stop := watchStream(b, in, adminKey, "?types=service", "")
		b.Cleanup(stop)
		chans[i] = ch
	}
	time.Sleep(200 * time.Millisecond)
	var worst time.Duration
	n := 0
	for b.Loop() {
		n++
		start := time.Now()
		if r, _ := master(b, in, "PATCH", "/api/v1/service/bct-prod", fmt.Sprintf(`{"release":"2.0.%d"}`, n)); r.Code != 200 {
			b.Fatalf("write: %d %s", r.Code, r.Body)
		}
		for _, ch := range chans {
			if ev := next(b, ch); ev.Data["revision"] != float64(n+1) {
				b.Fatalf("watcher got revision %v, want %d", ev.Data["revision"], n+1)
			}
		}
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}

func drain(resp *http.Response) {
	buf := make([]byte, 4096)
	for {
		if _, err := resp.Body.Read(buf); err != nil {
			break
		}
	}
	resp.Body.Close()
}
