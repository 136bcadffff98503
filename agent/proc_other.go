//go:build !linux

package agent

import "syscall"

// procAttr starts an action in its own process group, stopped together on
// timeout or shutdown.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
