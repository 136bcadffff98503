package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/event"
)

// drillLoad is the fault drills' load driver: a few workers post signed
// push deliveries, each with a delivery id of its own, round robin over
// the brokers' URLs, at a steady pace until stopped (or a hard cap), and
// record what each answer was. A 202 is what the drills hold Reflex to:
// every id answered 202 must be processed, once.
type drillLoad struct {
	name string
	urls []string
	// body returns the payload of the n-th delivery.
	body   func(n int) []byte
	sim    connectors.Simulator
	client *http.Client

	mu sync.Mutex
	// answers holds the last answer per id: an HTTP status, or 0 when
	// no answer came (refused or dropped connection, timeout).
	answers map[string]int
	sent    []string
	// acceptedAt holds when each 202 came, in order.
	acceptedAt []time.Time
	// bare503 counts 503 answers without Retry-After.
	bare503 int
	stop    chan struct{}
	done    chan struct{}
}

// drillFigures are a drill's counts, as the drill's log line gives them.
type drillFigures struct {
	sent, accepted, refused503, unanswered, limited int
	// other counts answers no drill expects, by status.
	other map[int]int
}

// loadPace is the pace of a drill's load: workers posting in parallel,
// each pausing gap between its deliveries, at most max in all.
type loadPace struct {
	workers int
	gap     time.Duration
	max     int
}

// defaultPace is about 60 deliveries a second, for at most 30 s of load.
var defaultPace = loadPace{workers: 4, gap: 60 * time.Millisecond, max: 2000}

// pushBody is the payload every delivery of a drill without deliveries
// carries.
func pushBody(t *testing.T) func(int) []byte {
	t.Helper()
	body, err := os.ReadFile("../../fixtures/github/push.branch.json")
	if err != nil {
		t.Fatal(err)
	}
	return func(int) []byte { return body }
}

// startLoad starts posting deliveries with ids "<name>-<n>".
func startLoad(t *testing.T, name string, urls []string, body func(int) []byte, pace loadPace) *drillLoad {
	t.Helper()
	l := &drillLoad{
		name: name, urls: urls, body: body, sim: github.New().(connectors.Simulator),
		client:  &http.Client{Timeout: 10 * time.Second},
		answers: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{}),
	}
	next := make(chan int)
	go func() {
		defer close(next)
		for n := range pace.max {
			select {
			case next <- n:
			case <-l.stop:
				return
			}
		}
	}()
	var workers sync.WaitGroup
	for range pace.workers {
		workers.Go(func() {
			for n := range next {
				id := fmt.Sprintf("%s-%05d", name, n)
				l.post(urls[n%len(urls)], id, l.body(n))
				time.Sleep(pace.gap)
			}
		})
	}
	go func() {
		workers.Wait()
		close(l.done)
	}()
	t.Cleanup(l.finish)
	return l
}

// post sends one delivery and records its answer.
func (l *drillLoad) post(url, id string, payload []byte) int {
	header, body := l.sim.Delivery("push", id, payload)
	l.sim.Sign(header, body, []byte(e2eSecret))
	code := 0
	var resp *http.Response
	req, err := http.NewRequest(http.MethodPost, url+"/hooks/acme-github", bytes.NewReader(body))
	if err == nil {
		req.Header = header
		if resp, err = l.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			code = resp.StatusCode
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if code == http.StatusServiceUnavailable && (resp == nil || resp.Header.Get("Retry-After") == "") {
		l.bare503++
	}
	if _, again := l.answers[id]; !again {
		l.sent = append(l.sent, id)
	}
	l.answers[id] = code
	if code == http.StatusAccepted {
		l.acceptedAt = append(l.acceptedAt, time.Now())
	}
	return code
}

// finish stops the load and waits for the deliveries under way.
func (l *drillLoad) finish() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

// figures counts the answers so far.
func (l *drillLoad) figures() drillFigures {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := drillFigures{sent: len(l.sent), other: map[int]int{}}
	for _, code := range l.answers {
		switch code {
		case http.StatusAccepted:
			f.accepted++
		case http.StatusServiceUnavailable:
			f.refused503++
		case http.StatusTooManyRequests:
			f.limited++
		case 0:
			f.unanswered++
		default:
			f.other[code]++
		}
	}
	return f
}

// acceptedAfter returns how many deliveries were accepted after t, and
// when the first of them was.
func (l *drillLoad) acceptedAfter(t time.Time) (int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, _ := slices.BinarySearchFunc(l.acceptedAt, t, func(a, b time.Time) int { return a.Compare(b) })
	if i == len(l.acceptedAt) {
		return 0, time.Time{}
	}
	return len(l.acceptedAt) - i, l.acceptedAt[i]
}

// waitFor waits until cond holds of the figures, or fails the test after
// patience.
func (l *drillLoad) waitFor(t *testing.T, what string, patience time.Duration, cond func(drillFigures) bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond(l.figures()) {
		if time.Now().After(deadline) {
			t.Fatalf("drill %s: not %s within %s: %+v", l.name, what, patience, l.figures())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAcceptedAfter waits until n deliveries were accepted after since and
// returns how long after since the first was.
func (l *drillLoad) waitAcceptedAfter(t *testing.T, since time.Time, n int, patience time.Duration) time.Duration {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		got, first := l.acceptedAfter(since)
		if got >= n {
			return first.Sub(since)
		}
		if time.Now().After(deadline) {
			t.Fatalf("drill %s: %d deliveries accepted in the %s after the fault ended, want %d: %+v", l.name, got, patience, n, l.figures())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ids returns the ids whose last answer was code, in the order sent.
func (l *drillLoad) ids(code int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, id := range l.sent {
		if l.answers[id] == code {
			out = append(out, id)
		}
	}
	return out
}

// unaccepted returns the ids that were sent and never answered 202.
func (l *drillLoad) unaccepted() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, id := range l.sent {
		if l.answers[id] != http.StatusAccepted {
			out = append(out, id)
		}
	}
	return out
}

// index returns the number n of an id "<name>-<n>".
func (l *drillLoad) index(id string) int {
	var n int
	_, _ = fmt.Sscanf(strings.TrimPrefix(id, l.name+"-"), "%d", &n)
	return n
}

// redeliver sends every delivery that was not answered 202 once more, as
// its provider would after a 503 or no answer, to url, and returns how
// many were accepted now and how many were duplicates: accepted before,
// though the answer said otherwise or never came.
func (l *drillLoad) redeliver(t *testing.T, url string, ids []string) (accepted, duplicates int) {
	t.Helper()
	for _, id := range ids {
		header, body := l.sim.Delivery("push", id, l.body(l.index(id)))
		l.sim.Sign(header, body, []byte(e2eSecret))
		req, err := http.NewRequest(http.MethodPost, url+"/hooks/acme-github", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header
		resp, err := l.client.Do(req)
		if err != nil {
			t.Fatalf("drill %s: redeliver %s: %v", l.name, id, err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted:
			accepted++
		case resp.StatusCode == http.StatusOK && bytes.Contains(answer, []byte(`"duplicate"`)):
			duplicates++
		default:
			t.Fatalf("drill %s: redelivery of %s answered %d %s, want 202 or a duplicate", l.name, id, resp.StatusCode, answer)
		}
		l.mu.Lock()
		l.answers[id] = http.StatusAccepted
		l.acceptedAt = append(l.acceptedAt, time.Now())
		l.mu.Unlock()
	}
	return accepted, duplicates
}

// checkAnswers fails the test for an answer no drill allows: a 5xx other
// than 503, a 2xx other than 202, any 4xx but 429, a 503 without
// Retry-After.
func (l *drillLoad) checkAnswers(t *testing.T) {
	t.Helper()
	if f := l.figures(); len(f.other) > 0 {
		t.Errorf("drill %s: unexpected answers (status: count) %v; only 202, 503, 429 or no answer are allowed", l.name, f.other)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bare503 > 0 {
		t.Errorf("drill %s: %d answers 503 without Retry-After", l.name, l.bare503)
	}
}

// apiJSON GETs path from a broker's API as the admin and decodes the
// answer into v; it returns the status.
func apiJSON(t *testing.T, baseURL, path string, v any) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e2eAdminKey)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
	}
	return resp.StatusCode, resp.Header
}

// unprocessed polls a broker's API until every id is stored as processed,
// at most patience, and returns those that are not, with how long the
// wait took.
func unprocessed(t *testing.T, baseURL string, ids []string, patience time.Duration) ([]string, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(patience)
	pending := slices.Clone(ids)
	for len(pending) > 0 && time.Now().Before(deadline) {
		var still []string
		for _, id := range pending {
			var ev event.Event
			code, _ := apiJSON(t, baseURL, "/api/v1/events/"+id+"?source=acme-github", &ev)
			if code != http.StatusOK || ev.Status != event.StatusProcessed {
				still = append(still, id)
			}
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return pending, time.Since(start)
}

// storedEvents lists every event of the drill's source through the API,
// page by page, and returns how many times each id is listed.
func storedEvents(t *testing.T, baseURL string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	path := "/api/v1/events?source=acme-github&limit=500"
	for path != "" {
		var page []event.Event
		code, header := apiJSON(t, baseURL, path, &page)
		if code != http.StatusOK {
			t.Fatalf("list events %s answered %d", path, code)
		}
		for _, ev := range page {
			seen[ev.ID]++
		}
		path = ""
		if link := header.Get("Link"); link != "" {
			path, _, _ = strings.Cut(strings.TrimPrefix(link, "<"), ">")
		}
	}
	return seen
}

// checkStored fails the test unless every id answered 202 is processed
// within patience, and every stored event is one the drill sent, listed
// once. It returns how many accepted ids were lost (never processed) and
// how long processing took to catch up.
func (l *drillLoad) checkStored(t *testing.T, baseURL string, patience time.Duration) (lost int, caughtUp time.Duration) {
	t.Helper()
	accepted := l.ids(http.StatusAccepted)
	missing, took := unprocessed(t, baseURL, accepted, patience)
	if len(missing) > 0 {
		t.Errorf("drill %s: %d of %d deliveries answered 202 are not processed after %s: %v", l.name, len(missing), len(accepted), patience, missing)
	}
	l.mu.Lock()
	sent := keySet(l.answers)
	l.mu.Unlock()
	for id, n := range storedEvents(t, baseURL) {
		if _, ok := sent[id]; !ok || n != 1 {
			t.Errorf("drill %s: event %s listed %d times (sent by the drill: %v), want once and only what was sent", l.name, id, n, ok)
		}
	}
	return len(missing), took
}

func keySet(m map[string]int) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// logFigures logs a drill's figures in the one format the docs quote.
func (l *drillLoad) logFigures(t *testing.T, f drillFigures, lost int, recovered time.Duration, extra string) {
	t.Helper()
	recoveredIn := "-" // no fault to recover from
	if recovered > 0 {
		recoveredIn = recovered.Round(time.Millisecond).String()
	}
	line := fmt.Sprintf("drill %s: sent=%d accepted=%d refused503=%d unanswered=%d lost=%d recovered_in=%s",
		l.name, f.sent, f.accepted, f.refused503, f.unanswered, lost, recoveredIn)
	if extra != "" {
		line += " " + extra
	}
	t.Log(line)
}
