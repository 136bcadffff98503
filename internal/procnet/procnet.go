// Package procnet reads a Linux machine's TCP sockets, and the processes
// that hold them, from /proc: for `reflex bench` to find the processes it
// measures, and for tests to see where a process is connected.
package procnet

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrUnavailable is returned where /proc cannot tell (not Linux, or
// another user's process).
var ErrUnavailable = errors.New("the sockets cannot be read here (Linux /proc only)")

// Socket is one TCP socket.
type Socket struct {
	LocalPort, RemotePort int
	// Listening is true for a socket that accepts connections.
	Listening bool
	// Inode names the socket among processes' descriptors.
	Inode string
}

// Sockets returns the machine's TCP sockets, IPv4 and IPv6.
func Sockets() ([]Socket, error) {
	var out []Socket
	read := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		read++
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			// sl local_address rem_address st … inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			out = append(out, Socket{LocalPort: port(fields[1]), RemotePort: port(fields[2]), Listening: fields[3] == "0A", Inode: fields[9]})
		}
		f.Close()
	}
	if read == 0 {
		return nil, ErrUnavailable
	}
	return out, nil
}

// port reads the port of an address as the tables write it: HEXIP:HEXPORT.
func port(addr string) int {
	_, hex, _ := strings.Cut(addr, ":")
	p, _ := strconv.ParseInt(hex, 16, 32)
	return int(p)
}

// Inodes returns the sockets process pid holds open, by inode.
func Inodes(pid int) (map[string]bool, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	out := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(dir + fd.Name())
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			out[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return out, nil
}

// ListeningPID returns the process that listens on a TCP port of this
// machine.
func ListeningPID(port int) (int, error) {
	socks, err := Sockets()
	if err != nil {
		return 0, err
	}
	listening := map[string]bool{}
	for _, s := range socks {
		if s.Listening && s.LocalPort == port {
			listening[s.Inode] = true
		}
	}
	if len(listening) == 0 {
		return 0, fmt.Errorf("%w: no socket listens on port %d", ErrUnavailable, port)
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		inodes, err := Inodes(pid)
		if err != nil {
			continue
		}
		for inode := range listening {
			if inodes[inode] {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: the process listening on port %d cannot be seen (another user's?)", ErrUnavailable, port)
}

// RemotePorts returns the remote ports of the connections process pid
// holds (listening sockets left out).
func RemotePorts(pid int) ([]int, error) {
	inodes, err := Inodes(pid)
	if err != nil {
		return nil, err
	}
	socks, err := Sockets()
	if err != nil {
		return nil, err
	}
	var out []int
	for _, s := range socks {
		if inodes[s.Inode] && !s.Listening && s.RemotePort != 0 {
			out = append(out, s.RemotePort)
		}
	}
	return out, nil
}
