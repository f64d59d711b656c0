package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gotask/gotask/service"
)

// servicesBenchmarks measure `gotask up` as a supervisor: what it costs
// while its instances idle, and how fast a crashed instance runs again.
func servicesBenchmarks() []benchmark {
	const window = 2 * time.Second // the idle rows' measuring window
	idleSetup := func(ctx context.Context, e *env, ups map[int]*upProcess) error {
		for _, n := range []int{20, 1} {
			dir := filepath.Join(e.dir, strconv.Itoa(n))
			doc := fmt.Sprintf("[services.idle]\nrun = \"exec sleep 3600\"\nreplicas = %d\n", n)
			up, err := startUp(ctx, e, dir, doc, fmt.Sprintf("gotask: up: %d of %d instances ready", n, n))
			if err != nil {
				return err
			}
			ups[n] = up
		}
		return nil
	}
	idle := func(ups map[int]*upProcess, n int) func(context.Context, *env) (sample, error) {
		return func(ctx context.Context, _ *env) (sample, error) { return ups[n].idle(ctx, window) }
	}
	cpuUps, rssUps := map[int]*upProcess{}, map[int]*upProcess{}
	var crash *crashLoop
	return []benchmark{
		{
			name:   "services/20-instances-idle-CPU",
			target: fmt.Sprintf("CPU of gotask up over %s of 20 idle instances ≤ 1x 0.5%% of one CPU; baseline: 1 instance, for scale", window),
			// Its samples' wall time is the CPU time used in the window.
			wallLimit:   window / 200,
			ratioTarget: 1,
			runs:        5,
			setup:       func(ctx context.Context, e *env) error { return idleSetup(ctx, e, cpuUps) },
			candidate:   idle(cpuUps, 20),
			baseline:    idle(cpuUps, 1),
		},
		{
			name:        "services/20-instances-idle-RSS",
			target:      "RSS of gotask up supervising 20 idle instances ≤ 1x 15 MB; baseline: 1 instance, for scale",
			rssLimit:    15_000_000,
			ratioTarget: 1,
			runs:        3,
			setup:       func(ctx context.Context, e *env) error { return idleSetup(ctx, e, rssUps) },
			candidate:   idle(rssUps, 20),
			baseline:    idle(rssUps, 1),
		},
		{
			name:        "services/restart-latency",
			target:      "crash to running again, backoff 0, ≤ 1x 50 ms; baseline: a sh loop restarting the same command",
			wallLimit:   50 * time.Millisecond,
			ratioTarget: 1,
			runs:        21,
			setup: func(ctx context.Context, e *env) error {
				var err error
				crash, err = startCrashLoop(ctx, e)
				return err
			},
			candidate: func(ctx context.Context, _ *env) (sample, error) { return crash.next(ctx, crash.gotask) },
			baseline:  func(ctx context.Context, _ *env) (sample, error) { return crash.next(ctx, crash.shell) },
		},
	}
}

// upProcess is a `gotask up` running for the length of a benchmark.
type upProcess struct {
	cmd *exec.Cmd
	out *lockedBuffer
}

// lockedBuffer is gotask up's output, read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		l.b.Reset() // a crash loop prints without end: keep the last lines
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startUp writes doc to dir/tasks.toml, starts gotask up there and
// waits for the line ready; the benchmark's cleanup stops it (Ctrl-C).
func startUp(ctx context.Context, e *env, dir, doc, ready string) (*upProcess, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tasks.toml"), []byte(doc), 0o644); err != nil {
		return nil, err
	}
	up := &upProcess{cmd: exec.Command(e.gotask, "up"), out: &lockedBuffer{}}
	up.cmd.Dir = dir
	up.cmd.Stdout, up.cmd.Stderr = up.out, up.out
	up.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	up.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := up.cmd.Start(); err != nil {
		return nil, err
	}
	e.cleanup(func() {
		_ = up.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = up.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-up.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	for deadline := time.Now().Add(time.Minute); !strings.Contains(up.out.String(), ready); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("gotask up did not print %q:\n%s", ready, up.out)
		}
	}
	return up, nil
}

// idle measures gotask up's own CPU time over window, and its RSS at the
// end of it; the sample's wall time is that CPU time.
func (u *upProcess) idle(ctx context.Context, window time.Duration) (sample, error) {
	pid := u.cmd.Process.Pid
	before, err := cpuTime(pid)
	if err != nil {
		return sample{}, err
	}
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return sample{}, ctx.Err()
	}
	after, err := cpuTime(pid)
	if err != nil {
		return sample{}, err
	}
	st, err := service.ReadProc(pid)
	if err != nil {
		return sample{}, err
	}
	used := after - before
	return sample{wall: used, cpu: used, maxRSS: int64(st.RSS)}, nil
}

// cpuTime is the CPU time pid's threads have used, in nanoseconds, from
// /proc/PID/task/*/schedstat: /proc/PID/stat counts in ticks of 10 ms,
// too coarse for an idle second.
func cpuTime(pid int) (time.Duration, error) {
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(files) == 0 {
		return 0, fmt.Errorf("process %d: no /proc/%d/task/*/schedstat", pid, pid)
	}
	var total time.Duration
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that ended
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		total += time.Duration(n)
	}
	return total, nil
}

// crashLoop is a command that crashes as soon as it starts, restarted by
// gotask up (backoff 0) and by a plain sh loop, each in a directory of
// its own where every run appends the time it started and the time it
// exits (date +%s%N: both sides pay the same two date processes).
type crashLoop struct {
	gotask, shell string // the directories
}

// crashLine is the crashing command.
const crashLine = `date +%s%N >> starts; date +%s%N >> exits; exit 1`

func startCrashLoop(ctx context.Context, e *env) (*crashLoop, error) {
	if out, err := exec.Command("date", "+%N").Output(); err != nil || strings.Contains(string(out), "N") {
		return nil, skipf("needs GNU date, for nanoseconds")
	}
	c := &crashLoop{gotask: filepath.Join(e.dir, "gotask"), shell: filepath.Join(e.dir, "shell")}
	doc := fmt.Sprintf("[services.crash]\nrun = %s\nbackoff = \"0\"\nmax_restarts = 100000000\n", tomlString(crashLine))
	if _, err := startUp(ctx, e, c.gotask, doc, "gotask: crash: started"); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.shell, 0o755); err != nil {
		return nil, err
	}
	sh := exec.Command("/bin/sh", "-c", `while :; do /bin/sh -c "$0"; done`, crashLine)
	sh.Dir = c.shell
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sh.Start(); err != nil {
		return nil, err
	}
	e.cleanup(func() { _ = syscall.Kill(-sh.Process.Pid, syscall.SIGKILL); _ = sh.Wait() })
	return c, nil
}

// next waits for a fresh crash and restart in dir and returns the time
// from the exit recorded by one run to the start recorded by the next.
func (c *crashLoop) next(ctx context.Context, dir string) (sample, error) {
	read := func(name string) []int64 {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		var out []int64
		for f := range strings.FieldsSeq(string(b)) {
			if n, err := strconv.ParseInt(f, 10, 64); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	seen := len(read("exits"))
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		starts, exits := read("starts"), read("exits")
		// Run k wrote starts[k] and exits[k]; run k+1 started at starts[k+1].
		if k := len(exits) - 1; k >= seen && len(starts) > k+1 {
			gaps := make([]time.Duration, 0, len(exits)-seen)
			for i := seen; i < len(exits) && i+1 < len(starts); i++ {
				gaps = append(gaps, time.Duration(starts[i+1]-exits[i]))
			}
			slices.Sort(gaps)
			d := gaps[len(gaps)/2]
			return sample{wall: d}, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return sample{}, fmt.Errorf("no restart in %s within a minute", dir)
		}
	}
}
