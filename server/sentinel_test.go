package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/redisconn"
	"github.com/reflexops/reflex/server"
)

// TestSentinelFailover runs Reflex through Sentinel (a redis-sentinel://
// URL) on a primary with a replica, sends webhooks without pause, and has
// Sentinel fail the primary over to the replica meanwhile: the intake
// answers 503 at most while the roles change and then accepts again by
// itself, and every delivery ever answered 202 is processed.
//
// An event is acknowledged once the replica holds it too
// (ReplicaAcks): Sentinel promotes a replica without waiting for it to
// catch up, so without that the last writes the primary acknowledged
// can be lost. Until the former primary follows the new one (Sentinel
// turns it into a replica some seconds after the switch), no replica
// confirms a write, and the intake answers 503.
func TestSentinelFailover(t *testing.T) {
	primary := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec"})
	primaryAddr := hostPort(t, primary.URL)
	h, p, _ := net.SplitHostPort(primaryAddr)
	var replicas []string
	for range 1 {
		r := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec", Args: []string{"--replicaof", h, p}})
		replicas = append(replicas, hostPort(t, r.URL))
	}
	setUp := time.Now()
	sentinel := startSentinel(t, primaryAddr, replicas)
	t.Logf("the Sentinel saw the replica ready after %s", time.Since(setUp).Round(time.Millisecond))

	redisconn.RouteLogs(testLogger())
	conn, err := redisconn.Open(context.Background(), "redis-sentinel://"+sentinel+"/0?master=mymaster", "", testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	in := start(t, conn.Client, logOnFailure(t), func(o *server.Options) { o.Store.ReplicaAcks = 1 })

	load := startLoad(t, in)
	load.waitAccepted(t, 20, 30*time.Second)
	began := time.Now()
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel})
	defer sc.Close()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := sc.Failover(ctx, "mymaster").Err()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SENTINEL FAILOVER: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // NOGOODSLAVE until Sentinel has seen the replica's link up
	}
	for {
		addr, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
		if err == nil && slices.Contains(replicas, net.JoinHostPort(addr[0], addr[1])) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Sentinel still names %v (%v) as the primary, want one of %v", addr, err, replicas)
		}
		time.Sleep(50 * time.Millisecond)
	}
	switched, tookSwitch := load.count(), time.Since(began)
	// The intake recovers by itself: deliveries sent after the switch are
	// accepted again.
	load.waitAccepted(t, switched+20, time.Minute)
	tookRecovery := time.Since(began)
	accepted, refused := load.stop()
	t.Logf("failover: Sentinel switched after %s, the intake accepted again within %s; %d deliveries accepted, %d answered 503",
		tookSwitch.Round(time.Millisecond), tookRecovery.Round(time.Millisecond), len(accepted), refused)

	// A job that was running at the switch may have lost its worker's
	// writes with the old primary's connections: it is active with nobody
	// running it, until asynq's recoverer gives it back (at most about
	// 2 min, docs/reliability.md, "How long an orphaned job waits").
	for _, id := range accepted {
		waitProcessedWithin(t, in, id, 3*time.Minute)
	}
	t.Logf("every accepted delivery processed %s after the failover began", time.Since(began).Round(time.Millisecond))
	old := redis.NewClient(&redis.Options{Addr: primaryAddr})
	defer old.Close()
	if role, err := old.Do(ctx, "ROLE").Slice(); err != nil || len(role) == 0 || role[0] == "master" {
		t.Errorf("the first primary's role after the failover: %v, %v; want it a replica", role, err)
	}
}

// load sends push webhooks, each with a fresh delivery id, one after the
// other, until stopped, and keeps the ids of those accepted.
type load struct {
	mu       sync.Mutex
	accepted []string
	refused  int
	failure  error
	cancel   context.CancelFunc
	done     chan struct{}
}

func startLoad(t *testing.T, in *instance) *load {
	t.Helper()
	push := fixture(t, "push.branch")
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for ctx.Err() == nil {
			f := withDelivery(push)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL+"/hooks/acme-github", bytes.NewReader(f.Body))
			if err != nil {
				l.fail(err)
				return
			}
			req.Header = signedHeaders(f, f.Body, testSecret)
			resp, err := client.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					l.fail(err)
				}
				return
			}
			resp.Body.Close()
			l.mu.Lock()
			switch resp.StatusCode {
			case http.StatusAccepted:
				l.accepted = append(l.accepted, f.Header.Get("X-GitHub-Delivery"))
			case http.StatusServiceUnavailable:
				l.refused++
			default:
				l.failure = fmt.Errorf("a delivery was answered %d, want 202 or 503", resp.StatusCode)
			}
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() { l.stop() })
	return l
}

func (l *load) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failure = err
}

// count is how many deliveries were accepted so far.
func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accepted)
}

// waitAccepted waits until n deliveries in all were accepted.
func (l *load) waitAccepted(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for l.count() < n {
		l.mu.Lock()
		failure := l.failure
		l.mu.Unlock()
		if failure != nil {
			t.Fatal(failure)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries accepted within %s, want %d", l.count(), within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the load and returns the ids accepted and how many were
// refused with 503.
func (l *load) stop() ([]string, int) {
	l.cancel()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted, l.refused
}

// hostPort is the host:port of a redis:// URL.
func hostPort(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// startSentinel starts one Sentinel on a free port that monitors the
// primary as "mymaster" (a quorum of one), waits until it knows the
// replicas with their links up, and returns its host:port. It runs
// redis-server --sentinel, or redis-sentinel where redis-server cannot.
func startSentinel(t *testing.T, primary string, replicas []string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	h, p, _ := net.SplitHostPort(primary)
	conf := filepath.Join(dir, "sentinel.conf")
	body := strings.Join([]string{
		"port " + strconv.Itoa(port), "bind 127.0.0.1", "dir " + dir, "logfile \"\"",
		"sentinel monitor mymaster " + h + " " + p + " 1",
		"sentinel down-after-milliseconds mymaster 2000",
		"sentinel failover-timeout mymaster 10000",
	}, "\n") + "\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	switch {
	case lookPath("redis-server"):
		cmd = exec.Command("redis-server", conf, "--sentinel")
	case lookPath("redis-sentinel"):
		cmd = exec.Command("redis-sentinel", conf)
	default:
		t.Skip("neither redis-server nor redis-sentinel is installed; the Sentinel test needs one to run a Sentinel")
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the Sentinel: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer sc.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen, err := sc.Replicas(context.Background(), "mymaster").Result()
		ready := 0
		for _, r := range seen {
			if slices.Contains(replicas, net.JoinHostPort(r["ip"], r["port"])) && r["flags"] == "slave" && r["master-link-status"] == "ok" {
				ready++
			}
		}
		if ready == len(replicas) {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Sentinel does not see the replicas %v ready within 30s: %v %v", replicas, seen, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lookPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
