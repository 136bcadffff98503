package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/server"
)

// linkNext returns the path of a Link: <…>; rel="next" header, "" when
// there is none.
var linkNextRE = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

func linkNext(h http.Header) string {
	m := linkNextRE.FindStringSubmatch(h.Get("Link"))
	if m == nil {
		return ""
	}
	return m[1]
}

// getPage reads one page of a list with the admin key, decoding it into
// rows, and returns the next page's path.
func getPage(t testing.TB, in *instance, path string, rows any) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, in.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var r reply
		_ = json.NewDecoder(resp.Body).Decode(&r)
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, r.Message)
	}
	if err := json.NewDecoder(resp.Body).Decode(rows); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return linkNext(resp.Header)
}

// followPages reads a list from path to its last page and returns each
// row's field, and the number of pages.
func followPages(t testing.TB, in *instance, path, field string) ([]string, int) {
	t.Helper()
	var out []string
	pages := 0
	for path != "" {
		var rows []map[string]any
		path = getPage(t, in, path, &rows)
		for _, r := range rows {
			out = append(out, fmt.Sprint(r[field]))
		}
		if pages++; pages > 5000 {
			t.Fatal("paging does not end")
		}
	}
	return out, pages
}

// TestEventPagingOverHTTP: thousands of deliveries received in the same
// millisecond are each listed exactly once by following Link rel="next",
// at any page size, newest first (ties by source and id, descending).
func TestEventPagingOverHTTP(t *testing.T) {
	frozen := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	in := start(t, newRedis(t), func(o *server.Options) {
		o.Worker = false
		o.Now = func() time.Time { return frozen }
	})
	f := fixture(t, "push.branch")
	const n = 2000
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				h := signedHeaders(f, f.Body, testSecret)
				id := fmt.Sprintf("page-%04d", i)
				h.Set("X-GitHub-Delivery", id)
				if r := post(t, in.URL+"/hooks/acme-github", h, f.Body); r.Code != http.StatusAccepted {
					t.Errorf("delivery %s: %d %s", id, r.Code, r.Body)
					return
				}
				ids <- id
			}
		})
	}
	wg.Wait()
	close(ids)
	var want []string
	for id := range ids {
		want = append(want, id)
	}
	slices.Sort(want)
	slices.Reverse(want) // one source, one millisecond: by id, descending
	for _, size := range []int{7, 1000} {
		got, pages := followPages(t, in, fmt.Sprintf("/api/v1/events?limit=%d", size), "id")
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: %d events listed in %d pages, want %d once each, newest first (first difference at %d)",
				size, len(got), pages, len(want), firstDifference(got, want))
		}
		if wantPages := (n + size - 1) / size; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d", size, pages, wantPages)
		}
	}
	// The same listing as CloudEvents, in the batch format.
	req, _ := http.NewRequest(http.MethodGet, in.URL+"/api/v1/events?limit=3&format=cloudevents", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var batch []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&batch); err != nil || resp.Header.Get("Content-Type") != "application/cloudevents-batch+json" {
		t.Fatalf("cloudevents list: %v, content type %q", err, resp.Header.Get("Content-Type"))
	}
	if len(batch) != 3 || batch[0]["specversion"] != "1.0" || batch[0]["id"] != want[0] || batch[0]["source"] != "/sources/acme-github" {
		t.Fatalf("cloudevents list = %v", batch)
	}
	if next := linkNext(resp.Header); !strings.Contains(next, "format=cloudevents") || !strings.Contains(next, "cursor=") {
		t.Errorf("next page of a cloudevents list: %q", next)
	}
	for _, bad := range []string{"limit=0", "limit=1001", "cursor=garbage", "format=xml", "before=yesterday"} {
		if r := apiGet(t, in, "/api/v1/events?"+bad, nil); r.Code != http.StatusBadRequest || r.Status != "failed" {
			t.Errorf("?%s answered %d %s, want 400", bad, r.Code, r.Body)
		}
	}
}

func firstDifference(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestObjectListsPage: every object list pages with limit and cursor in a
// stable order, deliveries newest first, filtered by service, zone and
// status; an unknown parameter is refused rather than ignored.
func TestObjectListsPage(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.Worker = false })
	for i := range 60 {
		body := fmt.Sprintf(`{"name":"svc-%02d","pipeline":"p%d","zone":"z%d"}`, (i*7)%60, i%2, i%3)
		if r, _ := master(t, in, "POST", "/api/v1/service", body); r.Code != 201 {
			t.Fatalf("create: %d %s", r.Code, r.Body)
		}
	}
	names, pages := followPages(t, in, "/api/v1/service/?limit=8", "name")
	if len(names) != 60 || !slices.IsSorted(names) || pages != 8 {
		t.Fatalf("services by name: %d in %d pages, sorted %v", len(names), pages, slices.IsSorted(names))
	}
	zone1, _ := followPages(t, in, "/api/v1/service/?limit=4&zone=z1&cols=zone", "zone")
	if len(zone1) != 20 || slices.ContainsFunc(zone1, func(z string) bool { return z != "z1" }) {
		t.Fatalf("services of zone z1 = %v", zone1)
	}

	// Deliveries: records written in order, each a little later.
	var created []string
	for i := range 30 {
		status := []string{"succeeded", "failed", "running"}[i%3]
		name := fmt.Sprintf("d-%02d", 29-i) // names unrelated to creation order
		body := fmt.Sprintf(`{"name":%q,"service":"svc-%02d","zone":"z%d","action":"deploy","status":%q}`, name, i%2, i%2, status)
		if r, _ := master(t, in, "POST", "/api/v1/deployment", body); r.Code != 201 {
			t.Fatalf("create delivery: %d %s", r.Code, r.Body)
		}
		created = append(created, name)
		time.Sleep(2 * time.Millisecond)
	}
	newest := slices.Clone(created)
	slices.Reverse(newest)
	got, _ := followPages(t, in, "/api/v1/deployment/?limit=7", "name")
	if !slices.Equal(got, newest) {
		t.Fatalf("deliveries = %v, want newest first %v", got, newest)
	}
	byName, _ := followPages(t, in, "/api/v1/deployment/?limit=7&order=name", "name")
	if !slices.IsSorted(byName) || len(byName) != 30 {
		t.Fatalf("deliveries by name = %v", byName)
	}
	var failedOfSvc1 []string
	for i, name := range created {
		if i%3 == 1 && i%2 == 1 {
			failedOfSvc1 = append(failedOfSvc1, name)
		}
	}
	slices.Reverse(failedOfSvc1)
	got, _ = followPages(t, in, "/api/v1/deployment/?limit=2&service=svc-01&status=failed&zone=z1", "name")
	if !slices.Equal(got, failedOfSvc1) {
		t.Fatalf("failed deliveries of svc-01 = %v, want %v", got, failedOfSvc1)
	}
	for _, bad := range []string{"/api/v1/deployment/?sevice=svc-01", "/api/v1/pipeline/?zone=z1", "/api/v1/service/?order=oldest", "/api/v1/service/?limit=5000"} {
		if r := apiGet(t, in, bad, nil); r.Code != http.StatusBadRequest {
			t.Errorf("%s answered %d %s, want 400", bad, r.Code, r.Body)
		}
	}
}

// TestDeliveryRecordsAreBounded: beyond the retention, the oldest ended
// delivery records are removed; one still running is kept whatever its
// age, and does not hold back the ended ones behind it.
func TestDeliveryRecordsAreBounded(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) {
		o.Deliveries.Keep = 5
		o.Deliveries.MinAge = time.Millisecond
		o.ReapInterval = 50 * time.Millisecond
	})
	for i := range 9 {
		status := "succeeded"
		if i == 0 {
			status = "running" // the oldest, still running
		}
		body := fmt.Sprintf(`{"name":"d-%d","service":"s","zone":"z","action":"deploy","status":%q}`, i, status)
		if r, _ := master(t, in, "POST", "/api/v1/deployment", body); r.Code != 201 {
			t.Fatalf("create delivery: %d %s", r.Code, r.Body)
		}
		time.Sleep(2 * time.Millisecond)
	}
	// Four are over the bound: the oldest ended ones go, the running one
	// stays.
	want := []string{"d-8", "d-7", "d-6", "d-5", "d-0"}
	var got []string
	waitFor(t, func() bool {
		got, _ = followPages(t, in, "/api/v1/deployment/", "name")
		return slices.Equal(got, want)
	})
}
