package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/state"
)

// call sends a request to the API with a key and returns the answer and
// its ETag.
func call(t testing.TB, in *instance, key, method, path, body string, header ...string) (reply, string) {
	t.Helper()
	var rd *bytes.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, in.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	r := reply{Code: resp.StatusCode, Body: buf.Bytes()}
	_ = json.Unmarshal(r.Body, &r)
	return r, resp.Header.Get("ETag")
}

// master calls the API with the admin key.
func master(t testing.TB, in *instance, method, path, body string, header ...string) (reply, string) {
	t.Helper()
	return call(t, in, adminKey, method, path, body, header...)
}

func decode(t testing.TB, r reply, out any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, out); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func TestObjectLifecycle(t *testing.T) {
	in := start(t, newRedis(t), nil)
	steps := []struct {
		name       string
		method     string
		path       string
		body       string
		header     []string
		wantCode   int
		wantStatus string
		wantETag   string
		wantMsg    string
	}{
		{"create", "POST", "/api/v1/pipeline", `{"name":"bct","title":"Bat'leth Combat Training","services":["bct-test","bct-prod"]}`, nil, 201, "created", `"1"`, ""},
		{"create twice", "POST", "/api/v1/pipeline", `{"name":"bct"}`, nil, 409, "failed", "", `pipeline "bct" already exists`},
		{"replace", "PUT", "/api/v1/pipeline/bct", `{"title":"BCT","services":["bct-test","bct-prod"]}`, nil, 200, "updated", `"2"`, ""},
		{"replace unchanged", "PUT", "/api/v1/pipeline/bct", `{"title":"BCT","services":["bct-test","bct-prod"]}`, nil, 202, "unchanged", `"2"`, ""},
		{"merge patch", "PATCH", "/api/v1/pipeline/bct", `{"title":null,"contacts":{"team":"combat"}}`, []string{"Content-Type", "application/merge-patch+json"}, 200, "updated", `"3"`, ""},
		{"merge through PUT", "PUT", "/api/v1/pipeline/bct?merge=true", `{"description":"two stages"}`, nil, 200, "updated", `"4"`, ""},
		{"invalid field", "PATCH", "/api/v1/pipeline/bct", `{"services":"bct-test"}`, nil, 400, "failed", "", "field services: got string, want array"},
		{"rename refused", "PUT", "/api/v1/pipeline/bct", `{"name":"other"}`, nil, 400, "failed", "", "cannot be renamed"},
		{"not an object", "POST", "/api/v1/pipeline", `[1,2]`, nil, 400, "failed", "", "must be a JSON object"},
		{"unknown type", "GET", "/api/v1/pipelines/", "", nil, 404, "failed", "", `no object type "pipelines"`},
		{"text body", "PUT", "/api/v1/pipeline/bct", `{}`, []string{"Content-Type", "text/plain"}, 415, "failed", "", "application/json"},
		{"delete", "DELETE", "/api/v1/pipeline/bct", "", nil, 200, "deleted", "", ""},
		{"gone", "GET", "/api/v1/pipeline/bct", "", nil, 404, "failed", "", "not found"},
	}
	for _, s := range steps {
		r, tag := master(t, in, s.method, s.path, s.body, s.header...)
		if r.Code != s.wantCode || r.Status != s.wantStatus || tag != s.wantETag || !strings.Contains(r.Message, s.wantMsg) {
			t.Fatalf("%s: answered %d %s (ETag %s), want %d %s (ETag %s) with %q", s.name, r.Code, r.Body, tag, s.wantCode, s.wantStatus, s.wantETag, s.wantMsg)
		}
		if s.name == "merge through PUT" {
			got, tag := master(t, in, "GET", "/api/v1/pipeline/bct", "")
			var doc map[string]any
			decode(t, got, &doc)
			if tag != `"4"` || doc["title"] != nil || doc["description"] != "two stages" || dig(doc, "contacts")["team"] != "combat" || doc["revision"] != float64(4) {
				t.Fatalf("after the merges: %v (ETag %s)", doc, tag)
			}
		}
	}
}

func TestListMatchAndCols(t *testing.T) {
	in := start(t, newRedis(t), nil)
	for _, doc := range []string{
		`{"name":"bct-test","pipeline":"bct","zone":"lab"}`,
		`{"name":"bct-prod","pipeline":"bct","zone":"dc1"}`,
		`{"name":"web-prod","pipeline":"web","zone":"dc1"}`,
	} {
		if r, _ := master(t, in, "POST", "/api/v1/service", doc); r.Code != 201 {
			t.Fatalf("create: %d %s", r.Code, r.Body)
		}
	}
	tests := []struct {
		query    string
		want     []string
		wantCols []string
	}{
		{"", []string{"bct-prod", "bct-test", "web-prod"}, []string{"id", "name", "revision"}},
		{"?match=bct-*", []string{"bct-prod", "bct-test"}, []string{"id", "name", "revision"}},
		{"?match=*-prod&cols=zone", []string{"bct-prod", "web-prod"}, []string{"name", "zone"}},
		{"?match=web-prod&cols=*", []string{"web-prod"}, []string{"created_at", "id", "name", "pipeline", "revision", "updated_at", "updated_by", "zone"}},
		{"?match=nothing*", nil, nil},
	}
	for _, tt := range tests {
		r, _ := master(t, in, "GET", "/api/v1/service/"+tt.query, "")
		var rows []map[string]any
		decode(t, r, &rows)
		var names []string
		for _, row := range rows {
			names = append(names, row["name"].(string))
			if cols := keys(row); strings.Join(cols, ",") != strings.Join(tt.wantCols, ",") {
				t.Errorf("%s: columns %v, want %v", tt.query, cols, tt.wantCols)
			}
		}
		if strings.Join(names, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: names %v, want %v", tt.query, names, tt.want)
		}
	}
	if r, _ := master(t, in, "GET", "/api/v1/service/?match=[", ""); r.Code != 400 {
		t.Errorf("a bad glob answered %d", r.Code)
	}
}

func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestIfMatch(t *testing.T) {
	in := start(t, newRedis(t), nil)
	master(t, in, "POST", "/api/v1/state", `{"name":"x","n":1}`)
	_, tag := master(t, in, "GET", "/api/v1/state/x", "")
	if r, _ := master(t, in, "PUT", "/api/v1/state/x", `{"n":2}`, "If-Match", tag); r.Code != 200 {
		t.Fatalf("conditional write on the current revision: %d %s", r.Code, r.Body)
	}
	r, _ := master(t, in, "PUT", "/api/v1/state/x", `{"n":3}`, "If-Match", tag)
	if r.Code != http.StatusPreconditionFailed || !strings.Contains(r.Message, "is at revision 2, not 1") {
		t.Fatalf("stale conditional write: %d %s, want 412 naming both revisions", r.Code, r.Body)
	}
	if r, _ := master(t, in, "PATCH", "/api/v1/state/x", `{"n":3}`, "If-Match", tag); r.Code != http.StatusPreconditionFailed {
		t.Fatalf("stale conditional merge: %d", r.Code)
	}
	if r, _ := master(t, in, "DELETE", "/api/v1/state/x", "", "If-Match", tag); r.Code != http.StatusPreconditionFailed {
		t.Fatalf("stale conditional delete: %d", r.Code)
	}
	if r, _ := master(t, in, "PUT", "/api/v1/state/x", `{"n":3}`, "If-Match", "soon"); r.Code != 400 {
		t.Fatalf("malformed If-Match: %d", r.Code)
	}
	var doc map[string]any
	got, _ := master(t, in, "GET", "/api/v1/state/x", "")
	decode(t, got, &doc)
	if doc["n"] != float64(2) {
		t.Fatalf("n = %v after refused writes, want 2", doc["n"])
	}
}

func TestHistory(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.Store.ObjectHistory = 3 })
	master(t, in, "POST", "/api/v1/release", `{"name":"bct","current":{"version":"1.0.0"}}`)
	for _, v := range []string{"1.1.0", "1.2.0", "1.3.0"} {
		if r, _ := master(t, in, "PATCH", "/api/v1/release/bct", `{"current":{"version":"`+v+`"}}`); r.Code != 200 {
			t.Fatalf("update: %d %s", r.Code, r.Body)
		}
	}
	r, _ := master(t, in, "GET", "/api/v1/release/bct/versions", "")
	var versions []state.VersionInfo
	decode(t, r, &versions)
	if len(versions) != 3 || versions[0].Version != 4 || versions[2].Version != 2 {
		t.Fatalf("versions = %+v, want revisions 4, 3, 2", versions)
	}
	old, tag := master(t, in, "GET", "/api/v1/release/bct?version=2", "")
	var doc map[string]any
	decode(t, old, &doc)
	if tag != `"2"` || dig(doc, "current")["version"] != "1.1.0" {
		t.Fatalf("revision 2 = %v (ETag %s), want version 1.1.0", doc, tag)
	}
	if r, _ := master(t, in, "GET", "/api/v1/release/bct?version=1", ""); r.Code != 404 || !strings.Contains(r.Message, "last 3 are kept") {
		t.Fatalf("revision 1 beyond the history: %d %s", r.Code, r.Body)
	}
}

// TestConcurrentWriters: writers race on one object with read-modify-write
// under If-Match. Each write lands on its revision or gets 412, and the
// count of landed writes is exactly what the object shows: none is lost.
// Unconditional merges, which retry internally, all land.
func TestConcurrentWriters(t *testing.T) {
	in := start(t, newRedis(t), nil)
	master(t, in, "POST", "/api/v1/state/", `{"name":"counter","n":0}`)
	var mu sync.Mutex
	okCount, staleCount := 0, 0
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range 10 {
				r, tag := master(t, in, "GET", "/api/v1/state/counter", "")
				var doc map[string]any
				decode(t, r, &doc)
				n := int(doc["n"].(float64))
				w, _ := master(t, in, "PUT", "/api/v1/state/counter", fmt.Sprintf(`{"n":%d,"by":%d}`, n+1, w), "If-Match", tag)
				mu.Lock()
				switch w.Code {
				case 200:
					okCount++
				case 412:
					staleCount++
				default:
					t.Errorf("write answered %d %s", w.Code, w.Body)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r, tag := master(t, in, "GET", "/api/v1/state/counter", "")
	var doc map[string]any
	decode(t, r, &doc)
	if int(doc["n"].(float64)) != okCount || tag != `"`+strconv.Itoa(okCount+1)+`"` {
		t.Fatalf("n = %v at %s after %d landed and %d refused writes: an update was lost", doc["n"], tag, okCount, staleCount)
	}
	if okCount == 0 || okCount+staleCount != 80 {
		t.Fatalf("%d landed, %d refused of 80", okCount, staleCount)
	}

	for i := range 20 {
		wg.Go(func() {
			if r, _ := master(t, in, "PATCH", "/api/v1/state/counter", fmt.Sprintf(`{"w%d":true}`, i)); r.Code != 200 {
				t.Errorf("merge answered %d %s", r.Code, r.Body)
			}
		})
	}
	wg.Wait()
	r, _ = master(t, in, "GET", "/api/v1/state/counter", "")
	decode(t, r, &doc)
	for i := range 20 {
		if doc[fmt.Sprintf("w%d", i)] != true {
			t.Fatalf("merge w%d was lost: %v", i, doc)
		}
	}
}

// sseEvent is one event of a watch stream.
type sseEvent struct {
	ID, Event string
	Data      map[string]any
}

// watchStream opens /api/v1/watch and delivers its events on a channel.
func watchStream(t testing.TB, in *instance, key, query, lastID string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", in.URL+"/api/v1/watch"+query, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("watch answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		var ev sseEvent
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := bytes.Index(buf, []byte("\n"))
				if i < 0 {
					break
				}
				line := string(buf[:i])
				buf = buf[i+1:]
				switch {
				case strings.HasPrefix(line, "id: "):
					ev.ID = line[4:]
				case strings.HasPrefix(line, "event: "):
					ev.Event = line[7:]
				case strings.HasPrefix(line, "data: "):
					_ = json.Unmarshal([]byte(line[6:]), &ev.Data)
				case line == "" && ev.Event != "":
					ch <- ev
					ev = sseEvent{}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return ch, cancel
}

func next(t testing.TB, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no change received within 10s")
	}
	return sseEvent{}
}

func TestWatch(t *testing.T) {
	in := start(t, newRedis(t), nil)
	ch, stop := watchStream(t, in, adminKey, "?types=service", "")
	master(t, in, "POST", "/api/v1/pipeline", `{"name":"bct"}`) // another type: filtered out
	master(t, in, "POST", "/api/v1/service", `{"name":"bct-test","pipeline":"bct"}`)
	ev := next(t, ch)
	if ev.Event != "created" || ev.Data["type"] != "service" || ev.Data["name"] != "bct-test" || ev.Data["revision"] != float64(1) || dig(ev.Data, "object")["pipeline"] != "bct" {
		t.Fatalf("first change = %+v", ev)
	}
	stop()

	// Changes made while the watcher is away arrive when it reconnects
	// with the id of the last change it saw, in order, then live ones.
	master(t, in, "PATCH", "/api/v1/service/bct-test", `{"zone":"lab"}`)
	master(t, in, "DELETE", "/api/v1/service/bct-test", "")
	ch, stop = watchStream(t, in, adminKey, "?types=service", ev.ID)
	defer stop()
	if ev := next(t, ch); ev.Event != "updated" || ev.Data["revision"] != float64(2) || dig(ev.Data, "object")["zone"] != "lab" {
		t.Fatalf("missed update = %+v", ev)
	}
	if ev := next(t, ch); ev.Event != "deleted" || ev.Data["name"] != "bct-test" {
		t.Fatalf("missed deletion = %+v", ev)
	}
	master(t, in, "POST", "/api/v1/service", `{"name":"bct-prod","pipeline":"bct"}`)
	if ev := next(t, ch); ev.Event != "created" || ev.Data["name"] != "bct-prod" {
		t.Fatalf("live change after the backlog = %+v", ev)
	}

	if r, _ := master(t, in, "GET", "/api/v1/watch?types=nope", ""); r.Code != 400 {
		t.Errorf("unknown type in types answered %d", r.Code)
	}
}

// TestWatchReset: a watcher that resumes from a change no longer kept is
// told to list afresh.
func TestWatchReset(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.Store.ChangeHistory = 1 })
	for i := range 300 {
		master(t, in, "POST", "/api/v1/state", fmt.Sprintf(`{"name":"s%d"}`, i))
	}
	ch, stop := watchStream(t, in, adminKey, "", "1-0")
	defer stop()
	if ev := next(t, ch); ev.Event != "reset" {
		t.Fatalf("first event = %+v, want reset", ev)
	}
}

// readOnly lets every key read everything but no sensitive part, and
// write nothing: to see masking from outside.
type readOnly struct{}

func (readOnly) Authorize(_ context.Context, r policies.Request) policies.Decision {
	if r.Caller.Master || (r.Action == policies.ActionRead && !r.Sensitive) {
		return policies.Decision{Allowed: true}
	}
	return policies.Decision{Reason: "read only"}
}

func keyRing(t *testing.T) *state.KeyRing {
	kr, err := state.NewKeyRing([]state.Key{{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSensitiveOverHTTP(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) {
		o.Store.Keys = keyRing(t)
		o.Authz = readOnly{}
	})
	if r, _ := master(t, in, "POST", "/api/v1/state", `{"name":"db","host":"db1","sensitive":{"password":"hunter2"}}`); r.Code != 201 {
		t.Fatalf("create: %d %s", r.Code, r.Body)
	}
	raw, err := in.Redis.HGet(context.Background(), keyspace.Object("state", "db"), "doc").Result()
	if err != nil || strings.Contains(raw, "hunter2") || !strings.Contains(raw, "$sealed") {
		t.Fatalf("stored form %q (%v) is not sealed", raw, err)
	}
	var doc map[string]any
	r, _ := master(t, in, "GET", "/api/v1/state/db", "")
	decode(t, r, &doc)
	if dig(doc, "sensitive")["password"] != "hunter2" {
		t.Fatalf("master sees %v", doc["sensitive"])
	}
	r, _ = master(t, in, "POST", "/api/v1/apikey", `{"name":"reader"}`)
	var created struct{ Key string }
	decode(t, r, &created)
	r, _ = call(t, in, created.Key, "GET", "/api/v1/state/db", "")
	decode(t, r, &doc)
	if r.Code != 200 || dig(doc, "sensitive")["masked"] != true || strings.Contains(string(r.Body), "hunter2") {
		t.Fatalf("reader sees %d %s, want the mask", r.Code, r.Body)
	}
	r, _ = call(t, in, created.Key, "GET", "/api/v1/state/?cols=*", "")
	if strings.Contains(string(r.Body), "hunter2") {
		t.Fatalf("the list shows the sensitive part to the reader: %s", r.Body)
	}
	if r, _ := call(t, in, created.Key, "PATCH", "/api/v1/state/db", `{"host":"db2"}`); r.Code != 403 {
		t.Fatalf("reader write answered %d", r.Code)
	}
}

func TestSensitiveWithoutKeys(t *testing.T) {
	in := start(t, newRedis(t), nil)
	r, _ := master(t, in, "POST", "/api/v1/state", `{"name":"db","sensitive":{"password":"hunter2"}}`)
	if r.Code != 400 || !strings.Contains(r.Message, "encryption key") {
		t.Fatalf("sensitive part without keys: %d %s", r.Code, r.Body)
	}
}
