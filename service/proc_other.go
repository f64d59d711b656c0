//go:build !linux

package service

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ReadProc returns pid's statistics, as `ps -o` shows them (systems
// without /proc: macOS, the BSDs).
func ReadProc(pid int) (ProcStat, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ps", "-o", "rss=,time=,nice=,state=,etime=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return ProcStat{}, fmt.Errorf("process %d: ps: %w", pid, err)
	}
	f := strings.Fields(string(out))
	if len(f) < 5 {
		return ProcStat{}, fmt.Errorf("process %d: ps printed %q", pid, out)
	}
	rss, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return ProcStat{}, fmt.Errorf("process %d: rss %q: %w", pid, f[0], err)
	}
	cpu, err := psDuration(f[1])
	if err != nil {
		return ProcStat{}, fmt.Errorf("process %d: time %q: %w", pid, f[1], err)
	}
	nice, _ := strconv.Atoi(f[2]) // "-" or a class name where nice does not apply
	up, err := psDuration(f[4])
	if err != nil {
		return ProcStat{}, fmt.Errorf("process %d: etime %q: %w", pid, f[4], err)
	}
	return ProcStat{RSS: rss * 1024, CPU: cpu, Nice: nice, State: f[3][:1], Start: time.Now().Add(-up)}, nil
}

// procRSS returns pid's resident memory.
func procRSS(pid int) (uint64, error) {
	st, err := ReadProc(pid)
	return st.RSS, err
}

// psDuration parses ps's [[dd-]hh:]mm:ss[.cc].
func psDuration(s string) (time.Duration, error) {
	var days int64
	if d, rest, ok := strings.Cut(s, "-"); ok {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			return 0, err
		}
		days, s = n, rest
	}
	var total float64
	for part := range strings.SplitSeq(s, ":") {
		v, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return 0, err
		}
		total = total*60 + v
	}
	return time.Duration(days)*24*time.Hour + time.Duration(total*float64(time.Second)), nil
}
