// Package loopback tells whether a host is this machine, where plain
// http (to a test server, a local mirror, a broker on the same host) is
// allowed while everything else must be https.
package loopback

import (
	"net"
	"strings"
)

// Host reports whether host (a name or an address, without a port) is
// "localhost" or a loopback address.
func Host(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
