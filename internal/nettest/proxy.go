// Package nettest holds network parts for tests: an HTTP CONNECT proxy such
// as secured networks run, which an agent reaches Reflex through.
package nettest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// ConnectProxy is an HTTP CONNECT proxy that tunnels to the hosts Route
// allows, to the address Route gives (so a test can name a host only the
// proxy resolves), and refuses everything else.
type ConnectProxy struct {
	*httptest.Server
	// Route returns where a CONNECT to host:port goes, or false to refuse
	// it. Default: every host, as named.
	Route func(host, port string) (addr string, ok bool)

	mu      sync.Mutex
	tunnels int
	refused []string
}

// StartConnectProxy starts a proxy that the test closes when it ends;
// route, when not nil, is its Route.
func StartConnectProxy(t testing.TB, route func(host, port string) (string, bool)) *ConnectProxy {
	p := &ConnectProxy{Route: route}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *ConnectProxy) serve(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	addr, ok := r.Host, err == nil
	if ok && p.Route != nil {
		addr, ok = p.Route(host, port)
	}
	if r.Method != http.MethodConnect || !ok {
		p.mu.Lock()
		p.refused = append(p.refused, r.Method+" "+r.Host)
		p.mu.Unlock()
		http.Error(w, "this proxy does not tunnel there", http.StatusForbidden)
		return
	}
	target, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	p.mu.Lock()
	p.tunnels++
	p.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		target.Close()
		return
	}
	go func() { _, _ = io.Copy(target, rw); target.Close() }()
	_, _ = io.Copy(conn, target)
	conn.Close()
}

// Stats returns how many tunnels the proxy opened, and the requests it
// refused.
func (p *ConnectProxy) Stats() (tunnels int, refused []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tunnels, append([]string(nil), p.refused...)
}
