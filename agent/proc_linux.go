package agent

import "syscall"

// procAttr starts an action in its own process group, stopped together on
// timeout or shutdown, and killed if the agent itself dies, so a crashed
// agent leaves no half-run action behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
