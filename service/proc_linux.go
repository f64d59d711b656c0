package service

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the unit of /proc/PID/stat's times (USER_HZ): 100 on
// every Linux that Go supports.
const clockTicks = 100

// ReadProc returns pid's statistics, read from /proc/PID/stat.
func ReadProc(pid int) (ProcStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcStat{}, fmt.Errorf("process %d: %w", pid, err)
	}
	return parseStat(pid, b, os.Getpagesize(), bootTime)
}

// procRSS returns pid's resident memory, from /proc/PID/stat, without
// the read of /proc/stat that ReadProc makes for the start time:
// restart_when.rss reads it every second for every process of every
// instance, and /proc/stat is the costliest of those files to produce.
func procRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	st, err := parseStat(pid, b, os.Getpagesize(), func() (time.Time, error) { return time.Time{}, nil })
	return st.RSS, err
}

// parseStat parses /proc/PID/stat: fields after the command name, which
// is in parentheses and may hold spaces and parentheses of its own.
func parseStat(pid int, b []byte, pageSize int, boot func() (time.Time, error)) (ProcStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ProcStat{}, fmt.Errorf("process %d: /proc/%d/stat has no command name", pid, pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 22 {
		return ProcStat{}, fmt.Errorf("process %d: /proc/%d/stat has %d fields, want at least 24", pid, pid, len(f)+2)
	}
	num := func(n int) (int64, error) {
		v, err := strconv.ParseInt(f[n-3], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("process %d: field %d of /proc/%d/stat: %w", pid, n, pid, err)
		}
		return v, nil
	}
	var v [5]int64
	var err error
	for k, n := range []int{14, 15, 19, 22, 24} { // utime, stime, nice, starttime, rss
		if v[k], err = num(n); err != nil {
			return ProcStat{}, err
		}
	}
	st := ProcStat{
		State: f[0],
		CPU:   time.Duration(v[0]+v[1]) * time.Second / clockTicks,
		Nice:  int(v[2]),
		RSS:   uint64(max(v[4], 0)) * uint64(pageSize),
	}
	bt, err := boot()
	if err != nil {
		return ProcStat{}, err
	}
	st.Start = bt.Add(time.Duration(v[3]) * time.Second / clockTicks)
	return st, nil
}

// bootTime reads when the system booted from /proc/stat's btime line:
// /proc/PID/stat counts a process's start from it.
func bootTime() (time.Time, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, fmt.Errorf("boot time: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("boot time: /proc/stat: %w", err)
			}
			return time.Unix(sec, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("boot time: /proc/stat has no btime line")
}
