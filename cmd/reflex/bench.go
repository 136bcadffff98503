package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/internal/loopback"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/loadgen"
)

type benchFlags struct {
	url, source, connector, secret string
	connections                    int
	rate                           float64
	requests                       int
	duration                       time.Duration
	reps                           int
	baseline, asJSON, allowRemote  bool
	hold                           bool
	sustain                        float64
}

func newBenchCmd(g *globals, logOut io.Writer) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench --source NAME --secret SECRET",
		Short: "Load a running Reflex with genuine webhooks, and compare it with a naive server",
		Long: `Post the connector's recorded deliveries (every fixture but its ping, in turn,
each signed as the provider signs it and with a delivery id of its own) to a
source of a running Reflex, closed-loop at --connections, or at --rate per
second, for --requests or --duration. It reports requests per second,
latencies (p50, p90, p99, max), the answers by status, and, when it can:
- the CPU the server and Redis spent per accepted delivery, during the load
  and until the backlog drained (Linux: the processes listening on the
  ports, read through /proc);
- Redis commands and script calls per delivery (INFO commandstats of
  REDIS_URL);
- the backlog over time, how long it took to drain, and what became of the
  last 1,000 deliveries answered 202 (through the API, with REFLEX_APIKEY:
  read on the event history).

With --baseline it starts a naive server on the same Redis (REDIS_URL): it
verifies the HMAC, decodes two fields, evaluates one CEL expression and
queues a job with asynq, whose own worker runs it with a handler that does
nothing; --reps rounds alternate Reflex and the baseline, and the table
gives the medians and their ratios. With --hold, each target's job queue
is paused while the deliveries are posted and resumed after, so the load's
CPU is the intake's alone, the drain's is the processing's, and the drain
gives the rate at which the worker processes a backlog. With --sustain F
and --duration, the baseline's burst rate is measured first, and every
round then holds F times that rate (open loop): whether processing keeps
up, and how long the backlog takes to drain. It refuses a target that is
not this machine unless --allow-remote.`,
		Example: `  REFLEX_APIKEY=… REDIS_URL=redis://127.0.0.1:6379 reflex bench --source acme-github \
      --secret env:ACME_GITHUB_SECRET --connections 16 --requests 20000 --baseline --reps 3
  reflex bench --source acme-github --secret env:ACME_GITHUB_SECRET --rate 500 --duration 60s --json
  reflex bench --source acme-github --secret env:ACME_GITHUB_SECRET --baseline --sustain 0.5 --duration 60s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runBench(ctx, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "http://127.0.0.1:8080", "base URL of the Reflex under load [$REFLEX_URL]")
	fl.StringVar(&f.source, "source", "", "the source to post to (required)")
	fl.StringVar(&f.connector, "connector", "github", "the source's connector, whose fixtures are sent")
	fl.StringVar(&f.secret, "secret", "", "the source's webhook secret: a literal, env:NAME or file:PATH (required)")
	fl.IntVar(&f.connections, "connections", 16, "requests in flight at once (at a --rate: at most)")
	fl.Float64Var(&f.rate, "rate", 0, "requests per second, whatever the answers' pace (0: closed loop)")
	fl.IntVar(&f.requests, "requests", 5000, "requests per round (0: only --duration bounds it)")
	fl.DurationVar(&f.duration, "duration", 0, "how long a round lasts at most (0: only --requests bounds it)")
	fl.IntVar(&f.reps, "reps", 1, "rounds, each of Reflex and (with --baseline) the baseline in turn")
	fl.BoolVar(&f.baseline, "baseline", false, "also run the naive baseline server on REDIS_URL, and print the ratios")
	fl.BoolVar(&f.asJSON, "json", false, "print the measures as JSON")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "allow a target that is not this machine")
	fl.Float64Var(&f.sustain, "sustain", 0, "with --baseline and --duration: measure the baseline's burst rate first (closed loop, --requests), then hold this fraction of it in every round")
	fl.BoolVar(&f.hold, "hold", false, "pause each target's job queue during the load (through REDIS_URL) and resume it after, so intake and processing are measured apart")
	_ = cmd.MarkFlagRequired("source")
	_ = cmd.MarkFlagRequired("secret")
	cmd.AddCommand(newBaselineServerCmd(g, logOut))
	return cmd
}

func runBench(ctx context.Context, f benchFlags, out, errOut io.Writer) error {
	if os.Getenv("REFLEX_URL") != "" && f.url == "http://127.0.0.1:8080" {
		f.url = os.Getenv("REFLEX_URL")
	}
	base := strings.TrimRight(f.url, "/")
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--url %q: want http://host:port", f.url)
	}
	if !f.allowRemote && !loopback.Host(u.Hostname()) {
		return fmt.Errorf("--url %s is not this machine: a load test is for a server you own; add --allow-remote if it is", base)
	}
	if f.reps < 1 || f.connections < 1 || (f.requests <= 0 && f.duration <= 0) {
		return errors.New("--reps and --connections must be at least 1, and --requests or --duration must bound a round")
	}
	if f.sustain < 0 || f.sustain > 0 && (!f.baseline || f.duration <= 0 || f.requests <= 0 || f.rate > 0) {
		return errors.New("--sustain needs --baseline, --duration for its rounds and --requests for the burst that measures the baseline, and no --rate")
	}
	secret, err := config.ResolveSecret(f.secret)
	if err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	var rdb redis.UniversalClient
	if raw := os.Getenv("REDIS_URL"); raw != "" {
		opts, err := redis.ParseURL(raw)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		c := redis.NewClient(opts)
		defer c.Close()
		rdb = c
	} else if f.baseline || f.hold {
		return errors.New("--baseline and --hold need REDIS_URL, the Redis Reflex uses (for an embedded Redis: serve with --embedded-redis-addr and point REDIS_URL there)")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	apikey := os.Getenv("REFLEX_APIKEY")
	reflex := loadgen.Target{Name: "reflex", HookURL: base + "/hooks/" + url.PathEscape(f.source), Queue: jobs.QueueEvents, Hold: f.hold}
	reflex.PID, _ = loadgen.ListeningPID(urlPort(u))
	if rdb != nil {
		reflex.RedisPID = redisPID(rdb)
	}
	if apikey != "" {
		reflex.Backlog = loadgen.ReflexBacklog(base, apikey, client)
		reflex.Check = loadgen.ReflexCheck(base, apikey, f.source, client)
	}
	var baseline loadgen.Target
	if f.baseline {
		b, stop, err := startBaseline(ctx, secret)
		if err != nil {
			return err
		}
		defer stop()
		baseline = loadgen.Target{Name: "baseline", HookURL: b.url + "/hooks/" + url.PathEscape(f.source), PID: b.pid,
			RedisPID: reflex.RedisPID, Backlog: loadgen.QueueBacklog(rdb, loadgen.BaselineQueue), Queue: loadgen.BaselineQueue, Hold: f.hold}
	}
	run := make([]byte, 4)
	_, _ = rand.Read(run)
	tty := isTerminal(errOut)
	if f.sustain > 0 {
		d, err := loadgen.NewDeliveries(f.connector, fmt.Sprintf("bench-%s-burst-", hex.EncodeToString(run)), secret)
		if err != nil {
			return err
		}
		m, err := loadgen.Run(ctx, baseline, loadgen.Load{Deliveries: d, Connections: f.connections, Requests: f.requests}, rdb)
		if err != nil {
			return fmt.Errorf("the baseline's burst: %w", err)
		}
		f.rate = f.sustain * m.Result.RPS()
		fmt.Fprintf(errOut, "the baseline's burst: %.0f req/s; each round holds %.0f req/s (%.2f of it) for %s\n", m.Result.RPS(), f.rate, f.sustain, f.duration)
		f.requests = 0
	}
	var measures []*loadgen.Measure
	for rep := 1; rep <= f.reps; rep++ {
		targets := []loadgen.Target{reflex}
		if f.baseline {
			targets = append(targets, baseline)
		}
		for _, t := range targets {
			d, err := loadgen.NewDeliveries(f.connector, fmt.Sprintf("bench-%s-%d-%s-", hex.EncodeToString(run), rep, t.Name), secret)
			if err != nil {
				return err
			}
			load := loadgen.Load{Deliveries: d, Connections: f.connections, Rate: f.rate, Requests: f.requests, Duration: f.duration}
			label := fmt.Sprintf("round %d/%d, %s", rep, f.reps, t.Name)
			if tty {
				load.Progress = func(p loadgen.Progress) {
					fmt.Fprintf(errOut, "\r%s: %s, %d sent, %.0f/s, %d failed   ", label, p.Elapsed.Round(time.Second), p.Sent, float64(p.Sent)/p.Elapsed.Seconds(), p.Failed)
				}
			}
			m, err := loadgen.Run(ctx, t, load, rdb)
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			if tty {
				fmt.Fprint(errOut, "\r\033[K")
			}
			fmt.Fprintf(errOut, "%s: %.0f req/s, p99 %s, %s\n", label, m.Result.RPS(), m.Result.Percentile(0.99).Round(time.Microsecond), statuses(m.Result.Status, m.Result.Errors))
			measures = append(measures, m)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	rows := loadgen.Summarize(measures)
	if f.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"settings": benchSettings(f), "rounds": measures, "summary": rows})
	}
	return printSummary(out, rows, f.baseline)
}

// benchSettings records what a run was.
func benchSettings(f benchFlags) map[string]any {
	return map[string]any{"url": f.url, "source": f.source, "connector": f.connector, "connections": f.connections,
		"rate": f.rate, "requests": f.requests, "duration": f.duration.String(), "reps": f.reps, "baseline": f.baseline, "hold": f.hold, "sustain": f.sustain}
}

func urlPort(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// redisPID returns the process of a Redis on this machine, 0 when unknown.
func redisPID(rdb redis.UniversalClient) int {
	c, ok := rdb.(*redis.Client)
	if !ok {
		return 0
	}
	host, port, err := net.SplitHostPort(c.Options().Addr)
	if err != nil || !loopback.Host(host) {
		return 0
	}
	p, _ := strconv.Atoi(port)
	pid, _ := loadgen.ListeningPID(p)
	return pid
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func statuses(status map[int]int, errs int) string {
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(status)) {
		parts = append(parts, fmt.Sprintf("%d×%d", status[code], code))
	}
	if errs > 0 {
		parts = append(parts, fmt.Sprintf("%d without answer", errs))
	}
	return strings.Join(parts, ", ")
}

// baselineProc is the baseline server, a process of its own so that its
// CPU time is its own.
type baselineProc struct {
	url string
	pid int
}

// startBaseline starts `reflex bench baseline-server` on a free loopback
// port and returns it, with how to stop it.
func startBaseline(ctx context.Context, secret []byte) (*baselineProc, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("start the baseline: %w", err)
	}
	cmd := exec.CommandContext(ctx, self, "bench", "baseline-server")
	cmd.Env = append(os.Environ(), "REFLEX_BENCH_SECRET="+string(secret))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start the baseline: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		stop()
		return nil, nil, fmt.Errorf("the baseline did not start: %q %v", line, err)
	}
	return &baselineProc{url: "http://" + addr, pid: cmd.Process.Pid}, stop, nil
}

func newBaselineServerCmd(g *globals, logOut io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "baseline-server",
		Short:  "Run the naive baseline server of reflex bench (REDIS_URL, REFLEX_BENCH_SECRET)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.newLogger(logOut)
			if err != nil {
				return err
			}
			opts, err := redis.ParseURL(os.Getenv("REDIS_URL"))
			if err != nil {
				return fmt.Errorf("REDIS_URL: %w", err)
			}
			rdb := redis.NewClient(opts)
			defer rdb.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "listening %s\n", ln.Addr())
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			b := &loadgen.Baseline{Redis: rdb, Secret: []byte(os.Getenv("REFLEX_BENCH_SECRET")), Worker: true, Log: log}
			return b.Serve(ctx, ln)
		},
	}
}

// printSummary prints the medians as a table.
func printSummary(out io.Writer, rows []loadgen.Row, baseline bool) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if baseline {
		fmt.Fprintln(tw, "MEDIAN\tREFLEX\tBASELINE\tRATIO")
	} else {
		fmt.Fprintln(tw, "MEDIAN\tREFLEX")
	}
	for _, r := range rows {
		if isNaN(r.Reflex) && isNaN(r.Baseline) {
			continue
		}
		name := r.Metric
		if r.Unit != "" {
			name += " (" + r.Unit + ")"
		}
		if baseline {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, figure(r.Reflex), figure(r.Baseline), ratio(r.Ratio))
		} else {
			fmt.Fprintf(tw, "%s\t%s\n", name, figure(r.Reflex))
		}
	}
	return tw.Flush()
}

func isNaN(v float64) bool { return v != v }

func figure(v float64) string {
	switch {
	case isNaN(v):
		return "-"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func ratio(v float64) string {
	if isNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}
