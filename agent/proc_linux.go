package agent

import (
	"fmt"
	"syscall"
)

// procAttr starts an action in its own process group, stopped together on
// timeout or shutdown, and killed if the agent itself dies, so a crashed
// agent leaves no half-run action behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// prSetDumpable is prctl's PR_SET_DUMPABLE.
const prSetDumpable = 4

// Conceal makes the agent's process non-dumpable: its /proc entries (its
// environment and memory, where its key was) belong to root, so an action
// running as the agent's user cannot read them through /proc/$PPID, nor
// attach a debugger to it.
func Conceal() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0); errno != 0 {
		return fmt.Errorf("make the agent's process non-dumpable: %w", errno)
	}
	return nil
}
