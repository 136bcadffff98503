package main

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/reflexops/reflex/internal/nettest"
	"github.com/reflexops/reflex/internal/procnet"
)

// brokerName is the name agents reach the broker by in the proxy tests:
// only the test's proxy resolves it, so an agent that reaches the broker
// at all did so through the proxy.
const brokerName = "reflex.test"

// startConnectProxy starts the network's CONNECT proxy: it tunnels to
// brokerName, which it alone resolves (to 127.0.0.1), and to nothing else.
func startConnectProxy(t *testing.T) *nettest.ConnectProxy {
	return nettest.StartConnectProxy(t, func(host, port string) (string, bool) {
		return net.JoinHostPort("127.0.0.1", port), host == brokerName
	})
}

// remotePorts returns the remote TCP ports of the connections process
// pid holds.
func remotePorts(t *testing.T, pid int) []int {
	t.Helper()
	ports, err := procnet.RemotePorts(pid)
	if err != nil {
		t.Skipf("cannot read the process's sockets: %v", err)
	}
	return ports
}

// environOf returns the environment process pid started with.
func environOf(t *testing.T, pid int) []string {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		t.Skipf("cannot read the process's environment: %v", err)
	}
	return strings.Split(string(raw), "\x00")
}

func portOf(t *testing.T, hostport string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}
