//go:build !linux

package agent

import "syscall"

// procAttr starts an action in its own process group, stopped together on
// timeout or shutdown.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// Conceal does nothing where the process cannot be made non-dumpable.
func Conceal() error { return nil }
