package server_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/reflexops/reflex/internal/promtest"
)

// Where the dashboard and the alert rules ship.
const (
	dashboardFile = "../docs/grafana/reflex.json"
	alertsFile    = "../docs/prometheus/alerts.yaml"
)

// TestAlertRules: the alert rules pass promtool's check.
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not on PATH (Debian package prometheus): the alert rules are not checked")
	}
	out, err := exec.Command(promtool, "check", "rules", alertsFile).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", alertsFile, err, out)
	}
}

// dashboard is what the test reads of the Grafana dashboard.
type dashboard struct {
	Inputs []struct {
		Name string `json:"name"`
	} `json:"__inputs"`
	Panels []struct {
		Title      string `json:"title"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// metricName finds the metric names an expression reads.
var metricName = regexp.MustCompile(`\breflex_[a-z_]+\b`)

// checkDocsNames fails when the dashboard or the alert rules read a
// metric exposed holds no series of, so that neither drifts from the
// code; the dashboard must also parse and take its data source as the
// variable DS_PROMETHEUS.
func checkDocsNames(t *testing.T, exposed promtest.Samples) {
	t.Helper()
	known := map[string]bool{}
	for _, name := range exposed.Families() {
		known[name] = true
		if base, ok := strings.CutSuffix(name, "_count"); ok {
			known[base+"_bucket"] = true
		}
	}
	check := func(where, expr string) {
		names := metricName.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("%s: %q reads no reflex metric", where, expr)
		}
		for _, name := range names {
			if !known[name] {
				t.Errorf("%s: %q reads %s, which is not exposed", where, expr, name)
			}
		}
	}
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || len(d.Panels) == 0 {
		t.Fatalf("%s: inputs %+v and %d panels, want DS_PROMETHEUS and panels", dashboardFile, d.Inputs, len(d.Panels))
	}
	for _, p := range d.Panels {
		if p.Datasource.UID != "${DS_PROMETHEUS}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: data source %q and %d queries, want ${DS_PROMETHEUS} and queries", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, q := range p.Targets {
			check("panel "+p.Title, q.Expr)
		}
	}
	rules, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(rules)) {
		if expr, ok := strings.CutPrefix(strings.TrimSpace(line), "expr:"); ok {
			check(alertsFile, expr)
		}
	}
}
