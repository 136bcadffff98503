package procnet

import (
	"errors"
	"net"
	"os"
	"slices"
	"testing"
)

// TestOwnSockets: this process's listener and connection are found.
func TestOwnSockets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pid, err := ListeningPID(port)
	if errors.Is(err, ErrUnavailable) && pid == 0 {
		if _, statErr := os.Stat("/proc/net/tcp"); statErr != nil {
			t.Skip("no /proc here")
		}
	}
	if err != nil || pid != os.Getpid() {
		t.Fatalf("ListeningPID(%d) = %d, %v; want this process, %d", port, pid, err, os.Getpid())
	}
	ports, err := RemotePorts(os.Getpid())
	if err != nil || !slices.Contains(ports, port) {
		t.Fatalf("RemotePorts = %v, %v; want %d among them", ports, err, port)
	}
	if _, err := ListeningPID(1); err == nil {
		t.Error("a port nothing listens on has a process")
	}
}
