package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// benchmark is one measurement: candidate (gotask) against baseline (the
// physical lower bound), whose ratio of medians must not exceed
// ratioTarget.
type benchmark struct {
	name        string  // group/what, matched by -run
	target      string  // the goal in words, with the ratio and the baseline
	ratioTarget float64 // PASS when median(candidate)/median(baseline) <= this
	runs        int     // runs of each side; -count overrides it

	// rssLimit, when set, makes the verdict about memory: the ratio is
	// the candidate's peak RSS over rssLimit bytes, and the baseline's
	// times and RSS are there for scale.
	rssLimit int64

	// hosts, when set, is how many hosts each side reaches: the table
	// then gives each side's CPU time per host as well.
	hosts int

	// cpuLimit, when set, makes the verdict about gotask's own CPU time
	// per host (hosts must be set): the ratio is the candidate's median
	// CPU time per host over cpuLimit. With rssLimit as well, the ratio
	// is the larger of the two, and the row passes only within both.
	cpuLimit time.Duration

	// cpuShare, when set, makes the verdict about the candidate's CPU
	// time as a share of its wall time (0.005 is half a percent of one
	// CPU): what a process that mostly waits costs over a fixed window.
	// The ratio is the median share over cpuShare, the cells give the
	// shares rather than the times.
	cpuShare float64

	// wallLimit, when set, makes the verdict about the candidate's
	// median wall time against this absolute limit rather than against
	// the baseline's, which is then there for scale.
	wallLimit time.Duration

	// setup, if set, prepares e.dir (write a tasks.toml, say) and may
	// check, once and outside the timing, that the candidate does the
	// right thing. It runs before the first timed run. An error from
	// skipf skips the benchmark without failing the run.
	setup func(ctx context.Context, e *env) error

	// candidate and baseline run once each and report how long that took.
	candidate, baseline func(ctx context.Context, e *env) (sample, error)
}

// env is what a benchmark's functions get.
type env struct {
	gotask string // the gotask binary under test
	dir    string // a temporary directory of the benchmark's own, removed after it
	notes  []string

	cleanups []func() // run after the benchmark, last first
}

// cleanup registers f to run when the benchmark is over (a server its
// setup started, say).
func (e *env) cleanup(f func()) { e.cleanups = append(e.cleanups, f) }

// skipError, from a setup, skips its benchmark: the row gives the reason
// and the run does not fail.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

// skipf returns a skipError.
func skipf(format string, args ...any) error {
	return &skipError{reason: fmt.Sprintf(format, args...)}
}

// notef adds a line to the notes printed under the table.
func (e *env) notef(format string, args ...any) {
	e.notes = append(e.notes, fmt.Sprintf(format, args...))
}

// command returns a command that runs in e.dir with stdin and stdout on
// /dev/null; stderr is kept for the error message if it fails.
func (e *env) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = e.dir
	c.Stderr = &bytes.Buffer{}
	return c
}

// time runs name with args (see command) and measures it.
func (e *env) time(ctx context.Context, name string, args ...string) (sample, error) {
	return timeCmd(e.command(ctx, name, args...))
}

// sample is one run.
type sample struct {
	wall time.Duration
	cpu  time.Duration // user + system time of the process and the children it waited for; 0 if unknown

	// maxRSS is the peak resident set, in bytes, of the process and the
	// children it waited for. Linux counts the memory a child shared
	// with bench before its exec, so a figure at or below bench's own
	// peak over the run (selfRSS) says only "no more than this".
	maxRSS, selfRSS int64
}

// timeCmd runs c and measures its wall-clock time, CPU time and peak RSS.
// A non-zero exit status is an error.
func timeCmd(c *exec.Cmd) (sample, error) {
	resetPeakRSS()
	start := time.Now()
	err := c.Run()
	wall := time.Since(start)
	if err != nil {
		msg := ""
		if b, ok := c.Stderr.(*bytes.Buffer); ok {
			msg = strings.TrimSpace(b.String())
		}
		if msg != "" {
			return sample{}, fmt.Errorf("%s: %w: %s", c, err, msg)
		}
		return sample{}, fmt.Errorf("%s: %w", c, err)
	}
	smp := sample{wall: wall}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		smp.maxRSS = rssBytes(ru)
		smp.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	smp.selfRSS = selfPeakRSS()
	return smp, nil
}

// resetPeakRSS lowers this process's peak RSS to its current RSS, where
// Linux allows it, so that the floor under a child's figure (see
// sample.maxRSS) is what bench holds now rather than its past peak.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// selfPeakRSS returns this process's peak RSS in bytes: VmHWM on Linux,
// the rusage figure elsewhere.
func selfPeakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				var kb int64
				if _, err := fmt.Sscan(v, &kb); err == nil {
					return kb * 1024
				}
			}
		}
	}
	var self syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil {
		return 0
	}
	return rssBytes(&self)
}

// rssBytes returns ru's peak resident set size in bytes.
func rssBytes(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return ru.Maxrss // bytes there, kilobytes elsewhere
	}
	return ru.Maxrss * 1024
}

// result is what measure found for one benchmark.
type result struct {
	b         *benchmark
	candidate []sample
	baseline  []sample
	notes     []string
	skipped   string // why the benchmark did not run, if skipped
	err       error
}

// measure runs b's setup, one untimed warm-up of each side, then count
// (or b.runs) timed runs of each, interleaved and alternating which side
// goes first. The benchmark's directory is made under tmp and removed
// unless keep is set.
func measure(ctx context.Context, b benchmark, gotask, tmp string, count int, keep bool) (r result) {
	r.b = &b
	dir, err := os.MkdirTemp(tmp, strings.ReplaceAll(b.name, "/", "-")+"-")
	if err != nil {
		r.err = err
		return r
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	e := &env{gotask: gotask, dir: dir}
	defer func() { r.notes = e.notes }()
	defer func() {
		for _, f := range slices.Backward(e.cleanups) {
			f()
		}
	}()

	runs := b.runs
	if count > 0 {
		runs = count
	}
	if runs <= 0 {
		runs = 5
	}
	if b.setup != nil {
		if err := b.setup(ctx, e); err != nil {
			if skip, ok := errors.AsType[*skipError](err); ok {
				r.skipped = skip.reason
				return r
			}
			r.err = fmt.Errorf("setup: %w", err)
			return r
		}
	}
	sides := []struct {
		name string
		f    func(context.Context, *env) (sample, error)
		to   *[]sample
	}{
		{"candidate", b.candidate, &r.candidate},
		{"baseline", b.baseline, &r.baseline},
	}
	for _, s := range sides {
		if _, err := s.f(ctx, e); err != nil {
			r.err = fmt.Errorf("%s (warm-up): %w", s.name, err)
			return r
		}
	}
	for i := range runs {
		for j := range sides {
			s := sides[(i+j)%2]
			smp, err := s.f(ctx, e)
			if err != nil {
				r.err = fmt.Errorf("%s: %w", s.name, err)
				return r
			}
			*s.to = append(*s.to, smp)
		}
	}
	return r
}
