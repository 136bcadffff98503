package loadgen

import (
	"encoding/json"
	"math"
	"slices"
	"time"
)

// Row is one figure of a run's summary: its median over the rounds for
// Reflex and for the baseline, and their ratio. NaN where unknown.
type Row struct {
	Metric   string  `json:"metric"`
	Unit     string  `json:"unit"`
	Reflex   float64 `json:"reflex"`
	Baseline float64 `json:"baseline"`
	// Ratio is Reflex's over the baseline's.
	Ratio float64 `json:"ratio"`
}

// MarshalJSON writes an unknown figure (NaN) as null.
func (r Row) MarshalJSON() ([]byte, error) {
	orNull := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		Metric   string   `json:"metric"`
		Unit     string   `json:"unit"`
		Reflex   *float64 `json:"reflex"`
		Baseline *float64 `json:"baseline"`
		Ratio    *float64 `json:"ratio"`
	}{r.Metric, r.Unit, orNull(r.Reflex), orNull(r.Baseline), orNull(r.Ratio)})
}

// MarshalJSON writes a round's figures, without its lists of latencies
// and delivery ids.
func (m *Measure) MarshalJSON() ([]byte, error) {
	r := m.Result
	row := map[string]any{
		"target": m.Target, "sent": r.Sent, "elapsed_s": r.Elapsed.Seconds(), "rps": r.RPS(), "status": r.Status,
		"errors": r.Errors, "late": r.Late, "accepted": len(r.Accepted),
		"p50_ms": ms(r.Percentile(0.5)), "p90_ms": ms(r.Percentile(0.9)), "p99_ms": ms(r.Percentile(0.99)), "max_ms": ms(r.Percentile(1)),
		"backlog": m.Backlog, "drain_s": m.Drain.Seconds(), "held": m.Held,
	}
	if m.IntakeCPU >= 0 && m.TotalCPU >= 0 {
		row["intake_cpu_s"], row["total_cpu_s"] = m.IntakeCPU.Seconds(), m.TotalCPU.Seconds()
	}
	if m.IntakeRedisCPU >= 0 && m.TotalRedisCPU >= 0 {
		row["intake_redis_cpu_s"], row["total_redis_cpu_s"] = m.IntakeRedisCPU.Seconds(), m.TotalRedisCPU.Seconds()
	}
	if m.Commands >= 0 {
		row["redis_commands"], row["redis_scripts"] = m.Commands, m.Scripts
	}
	if m.Readback != nil {
		row["readback"] = m.Readback
	}
	return json.Marshal(row)
}

// metric is how one figure is read off a Measure.
type metric struct {
	name, unit string
	of         func(m *Measure) float64
}

func perAccepted(m *Measure, v float64) float64 {
	n := len(m.Result.Accepted)
	if n == 0 || v < 0 {
		return math.NaN()
	}
	return v / float64(n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

var metrics = []metric{
	{"requests per second", "req/s", func(m *Measure) float64 { return m.Result.RPS() }},
	{"latency p50", "ms", func(m *Measure) float64 { return ms(m.Result.Percentile(0.50)) }},
	{"latency p90", "ms", func(m *Measure) float64 { return ms(m.Result.Percentile(0.90)) }},
	{"latency p99", "ms", func(m *Measure) float64 { return ms(m.Result.Percentile(0.99)) }},
	{"latency max", "ms", func(m *Measure) float64 { return ms(m.Result.Percentile(1)) }},
	{"accepted (202)", "%", func(m *Measure) float64 {
		return 100 * float64(len(m.Result.Accepted)) / float64(max(m.Result.Sent, 1))
	}},
	{"CPU per delivery, intake", "µs", func(m *Measure) float64 { return perAccepted(m, us(m.IntakeCPU)) }},
	{"CPU per delivery, intake and processing", "µs", func(m *Measure) float64 { return perAccepted(m, us(m.TotalCPU)) }},
	{"CPU per delivery, processing", "µs", func(m *Measure) float64 {
		if m.IntakeCPU < 0 || m.TotalCPU < 0 {
			return math.NaN()
		}
		return perAccepted(m, us(m.TotalCPU-m.IntakeCPU))
	}},
	{"Redis's part, intake", "µs", func(m *Measure) float64 { return perAccepted(m, us(m.IntakeRedisCPU)) }},
	{"Redis's part, processing", "µs", func(m *Measure) float64 {
		if m.IntakeRedisCPU < 0 || m.TotalRedisCPU < 0 {
			return math.NaN()
		}
		return perAccepted(m, us(m.TotalRedisCPU-m.IntakeRedisCPU))
	}},
	{"Redis commands per delivery", "", func(m *Measure) float64 { return perAccepted(m, float64(m.Commands)) }},
	{"Redis script calls per delivery", "", func(m *Measure) float64 { return perAccepted(m, float64(m.Scripts)) }},
	{"backlog at most", "jobs", func(m *Measure) float64 {
		if m.Backlog == nil {
			return math.NaN()
		}
		return float64(m.MaxBacklog)
	}},
	{"drained after the load", "s", func(m *Measure) float64 {
		if m.Backlog == nil {
			return math.NaN()
		}
		return m.Drain.Seconds()
	}},
	{"processing rate, held jobs", "jobs/s", func(m *Measure) float64 {
		if !m.Held || m.Drain <= 0 {
			return math.NaN()
		}
		return float64(len(m.Result.Accepted)) / m.Drain.Seconds()
	}},
	{"read back: processed", "%", func(m *Measure) float64 {
		if m.Readback == nil || m.Readback.Checked == 0 {
			return math.NaN()
		}
		return 100 * float64(m.Readback.Processed) / float64(m.Readback.Checked)
	}},
	{"read back: not found", "", func(m *Measure) float64 {
		if m.Readback == nil {
			return math.NaN()
		}
		return float64(m.Readback.Missing)
	}},
}

// Summarize returns the medians, over the rounds, of each figure for
// Reflex and the baseline, and their ratios.
func Summarize(measures []*Measure) []Row {
	rows := make([]Row, 0, len(metrics))
	for _, mt := range metrics {
		var reflex, baseline []float64
		for _, m := range measures {
			v := mt.of(m)
			if math.IsNaN(v) {
				continue
			}
			if m.Target == "baseline" {
				baseline = append(baseline, v)
			} else {
				reflex = append(reflex, v)
			}
		}
		r := Row{Metric: mt.name, Unit: mt.unit, Reflex: median(reflex), Baseline: median(baseline)}
		r.Ratio = r.Reflex / r.Baseline
		if math.IsInf(r.Ratio, 0) {
			r.Ratio = math.NaN()
		}
		rows = append(rows, r)
	}
	return rows
}

// median returns the median of vs, NaN for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
