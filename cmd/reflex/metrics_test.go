package main

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/internal/promtest"
)

// TestServeMetricsListen: with --metrics-listen, `reflex serve` serves
// /metrics there without a key, and not on its main listener.
func TestServeMetricsListen(t *testing.T) {
	addr := freeAddr(t)
	p := serve(t, "--metrics-listen", addr)
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	samples, err := promtest.Parse(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics on --metrics-listen: %d, %v", resp.StatusCode, err)
	}
	for _, name := range []string{"reflex_queue_collect_errors_total", "reflex_agent_collect_errors_total", "go_goroutines"} {
		if _, ok := samples[name]; !ok {
			t.Errorf("the metrics listener serves no %s: %v", name, samples.Families())
		}
	}
	req, err := http.NewRequest(http.MethodGet, p.url+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e2eAdminKey)
	main, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	main.Body.Close()
	if main.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the main listener: %d, want 404", main.StatusCode)
	}
}
