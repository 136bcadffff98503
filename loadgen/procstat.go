package loadgen

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/internal/procnet"
)

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ), 100
// on every Linux port Reflex is built for.
const clockTicks = 100

// ErrNoProcStat is returned where /proc cannot tell a process's CPU time.
var ErrNoProcStat = errors.New("cannot read processes' CPU time here (Linux /proc only)")

// CPUTime returns the user and system CPU time process pid has spent.
func CPUTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoProcStat, err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: /proc/%d/stat is not as expected", ErrNoProcStat, pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: /proc/%d/stat is not as expected", ErrNoProcStat, pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: /proc/%d/stat is not as expected", ErrNoProcStat, pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// ListeningPID returns the process that listens on a TCP port of this
// machine, found through /proc.
func ListeningPID(port int) (int, error) {
	pid, err := procnet.ListeningPID(port)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoProcStat, err)
	}
	return pid, nil
}
