package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a private redis-server process for fault tests, which stop and
// restart it. By default it persists every write (appendfsync always), so a
// restart loses nothing that was acknowledged, as a production Redis with
// AOF would. The shared server on 6379 is never touched.
type Server struct {
	// URL reaches the server.
	URL string

	t    testing.TB
	port int
	dir  string
	opts ServerOptions
	cmd  *exec.Cmd
}

// ServerOptions tunes a private server. The zero value is StartServer's.
type ServerOptions struct {
	// Fsync is the appendfsync setting: "always" (the default) loses
	// nothing on a crash; "everysec", a common production setting, is
	// faster and fits benchmarks.
	Fsync string
	// Args are further redis-server arguments, such as
	// "--maxmemory-policy", "allkeys-lru".
	Args []string
}

// StartServer starts a private redis-server on a free port, or skips the
// test when redis-server is not installed.
func StartServer(t testing.TB) *Server {
	t.Helper()
	return StartServerWith(t, ServerOptions{})
}

// StartServerWith is StartServer with options.
func StartServerWith(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	if opts.Fsync == "" {
		opts.Fsync = "always"
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed; this fault test needs a real server to stop")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{t: t, port: port, dir: t.TempDir(), opts: opts, URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port)}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts (or restarts) the server and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	args := []string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--save", "", "--appendonly", "yes", "--appendfsync", s.opts.Fsync,
		"--logfile", "",
	}
	s.cmd = exec.Command("redis-server", append(args, s.opts.Args...)...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port)})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatal("private redis-server did not answer within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server abruptly, as a crash or a network cut would.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}
