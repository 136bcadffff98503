// Package promtest reads metrics in tests: from a registry, or from a
// /metrics answer parsed with Prometheus's own text parser, as samples
// named the way a query names them.
package promtest

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples are metric values by series, written as a query names them:
// `name{label="value",…}` with the labels sorted, or `name` without
// labels. A histogram gives its _count and _sum.
type Samples map[string]float64

// Gather returns the samples of a registry.
func Gather(g prometheus.Gatherer) (Samples, error) {
	families, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	out := Samples{}
	for _, f := range families {
		out.add(f)
	}
	return out, nil
}

// Parse returns the samples of an exposition in the text format, and the
// names of its metric families; a text the parser rejects is an error.
func Parse(r io.Reader) (Samples, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse the exposition: %w", err)
	}
	out := Samples{}
	for _, f := range families {
		out.add(f)
	}
	return out, nil
}

// Families returns the metric names the samples hold, sorted, with the
// _count and _sum of histograms as one.
func (s Samples) Families() []string {
	seen := map[string]bool{}
	for series := range s {
		name, _, _ := strings.Cut(series, "{")
		seen[name] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Get returns one series' value, 0 when it is absent.
func (s Samples) Get(name string, labels ...string) float64 {
	return s[Series(name, labels...)]
}

// Series names a series: labels are name, value pairs, in any order.
func Series(name string, labels ...string) string {
	pairs := make([]string, 0, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
	}
	if len(pairs) == 0 {
		return name
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

func (s Samples) add(f *dto.MetricFamily) {
	for _, m := range f.GetMetric() {
		labels := make([]string, 0, 2*len(m.GetLabel()))
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName(), l.GetValue())
		}
		name := f.GetName()
		switch {
		case m.Counter != nil:
			s[Series(name, labels...)] = m.GetCounter().GetValue()
		case m.Gauge != nil:
			s[Series(name, labels...)] = m.GetGauge().GetValue()
		case m.Histogram != nil:
			s[Series(name+"_count", labels...)] = float64(m.GetHistogram().GetSampleCount())
			s[Series(name+"_sum", labels...)] = m.GetHistogram().GetSampleSum()
		case m.Untyped != nil:
			s[Series(name, labels...)] = m.GetUntyped().GetValue()
		case m.Summary != nil:
			s[Series(name+"_count", labels...)] = float64(m.GetSummary().GetSampleCount())
			s[Series(name+"_sum", labels...)] = m.GetSummary().GetSampleSum()
		}
	}
}
