package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// servicesBenchmarks measures `gotask up` (issue 18): what a supervisor
// of idle instances costs, and how soon it runs a crashed instance again.
func servicesBenchmarks() []benchmark {
	return []benchmark{servicesIdle(false), servicesIdle(true), servicesRestart(), servicesWatch()}
}

// idleInstances and idleWindow: the idle row supervises that many
// instances and measures the supervisor over that long, once all are
// ready.
const (
	idleInstances = 20
	idleWindow    = 10 * time.Second
)

// idleTOML returns a tasks.toml of one service of n instances that
// sleep. With limits, each has what a real service has that costs the
// supervisor while it waits: a ready check (polled until it passes, then
// no more) and restart_when, whose rss is read every second, for every
// process of the instance.
func idleTOML(n int, limits bool) string {
	doc := fmt.Sprintf("[services.idle]\nrun = \"exec sleep 1000000\"\nreplicas = %d\n", n)
	if limits {
		doc += "ready = { sh = \"true\" }\nrestart_when = { rss = \"500MB\", after = \"12h\" }\n"
	}
	return doc
}

// servicesIdle: gotask up of 20 idle instances, once they are all ready:
// the supervisor's own CPU time over idleWindow, as a share of one CPU,
// and its memory. With noCgroup, gotask runs where it cannot make
// cgroups, as it does for anyone but root: in a mount namespace of its
// own without the cgroup2 mount (which takes root and unshare(1), or
// the row is skipped).
func servicesIdle(noCgroup bool) benchmark {
	var rss [2][]int64 // VmRSS at the end of each window: candidate, baseline
	var wrap []string  // what runs gotask
	name, where := "services/20-instances-idle", ""
	if noCgroup {
		name, where = "services/20-instances-idle-no-cgroup", ", without cgroups (as when not root)"
	}
	return benchmark{
		name: name,
		target: fmt.Sprintf("CPU ≤ 1x 0.5%% of one CPU and peak RSS ≤ 1x 15 MB: gotask up's own, over %s once %d `sleep`s with a ready check and restart_when.rss are ready%s; baseline: the same without ready and restart_when, for scale",
			idleWindow, idleInstances, where),
		ratioTarget: 1,
		cpuShare:    0.005,
		rssLimit:    15_000_000,
		runs:        5,
		setup: func(ctx context.Context, e *env) error {
			if noCgroup {
				var err error
				if wrap, err = withoutCgroups(); err != nil {
					return err
				}
			}
			if err := os.WriteFile(e.path("limits.toml"), []byte(idleTOML(idleInstances, true)), 0o644); err != nil {
				return err
			}
			e.cleanup(func() {
				for i, side := range []string{"with ready and restart_when", "without"} {
					if len(rss[i]) > 0 {
						e.notef("VmRSS at the end of the window, %s: %s (peak RSS is VmHWM)", side, formatMBs(rss[i]))
					}
				}
			})
			return os.WriteFile(e.path("plain.toml"), []byte(idleTOML(idleInstances, false)), 0o644)
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return idleRun(ctx, e, wrap, "limits.toml", &rss[0])
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			return idleRun(ctx, e, wrap, "plain.toml", &rss[1])
		},
	}
}

// withoutCgroups returns the command line that runs the rest of a
// command line in a mount namespace without the cgroup2 mounts, where
// gotask finds no cgroup to make its instances' in; a skip when bench
// is not root (gotask makes no cgroups then: the row with them is
// without them already), unshare is missing, or there is no cgroup2.
func withoutCgroups() ([]string, error) {
	if os.Geteuid() != 0 {
		return nil, skipf("not root: gotask makes no cgroups, so services/20-instances-idle is this row")
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, skipf("no /proc/self/mountinfo (not Linux): %v", err)
	}
	mounts := cgroup2Mounts(string(info))
	if len(mounts) == 0 {
		return nil, skipf("no cgroup2 mount: gotask makes no cgroups, so services/20-instances-idle is this row")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return nil, skipf("install unshare (util-linux)")
	}
	script := "umount -l"
	for i := range mounts {
		script += fmt.Sprintf(` "$%d"`, i+1)
	}
	script += fmt.Sprintf(` && shift %d && exec "$@"`, len(mounts))
	return append([]string{"unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"}, mounts...), nil
}

// cgroup2Mounts returns the mount points of the cgroup2 file systems in
// a /proc/PID/mountinfo text.
func cgroup2Mounts(mountinfo string) []string {
	var out []string
	for l := range strings.Lines(mountinfo) {
		// ID parent dev root mount-point options [optional...] - fstype source options
		pre, post, ok := strings.Cut(l, " - ")
		if f := strings.Fields(pre); ok && strings.HasPrefix(post, "cgroup2 ") && len(f) >= 5 {
			out = append(out, mountUnescape.Replace(f[4]))
		}
	}
	return out
}

// mountUnescape undoes mountinfo's octal escapes of a path's blanks and
// backslashes.
var mountUnescape = strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)

// idleRun starts gotask up on file (under wrap, when not empty), waits
// until its instances are ready, and measures its own CPU time (not its
// children's) over idleWindow, and its VmHWM as the peak RSS; it appends
// its VmRSS to rss.
func idleRun(ctx context.Context, e *env, wrap []string, file string, rss *[]int64) (smp sample, err error) {
	u, err := startUp(ctx, e, wrap, file, idleInstances)
	if err != nil {
		return sample{}, err
	}
	defer func() {
		if serr := u.stop(); err == nil {
			err = serr
		}
	}()
	pid := u.cmd.Process.Pid
	seen := u.log.len()
	cpu0, err := procCPU(pid)
	if err != nil {
		return sample{}, err
	}
	start := time.Now()
	t := time.NewTimer(idleWindow)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return sample{}, ctx.Err()
	case <-u.done:
		return sample{}, fmt.Errorf("gotask up ended while idle (%v); its output:\n%s", u.err, u.log.crash())
	}
	cpu1, err := procCPU(pid)
	if err != nil {
		return sample{}, err
	}
	wall := time.Since(start)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return sample{}, err
	}
	hwm, err := statusBytes(string(status), "VmHWM")
	if err != nil {
		return sample{}, err
	}
	cur, err := statusBytes(string(status), "VmRSS")
	if err != nil {
		return sample{}, err
	}
	if n := u.log.len() - seen; n > 0 {
		return sample{}, fmt.Errorf("gotask up printed %d lines in the window: its instances were not idle; its last lines:\n%s", n, u.log.tail(min(n, 10)))
	}
	*rss = append(*rss, cur)
	return sample{wall: wall, cpu: cpu1 - cpu0, maxRSS: hwm}, nil
}

// crashCommand prints its pid (the shell's, which exec makes sleep's)
// and waits to be killed.
const crashCommand = "echo started $$; exec sleep 1000000"

// crashTOML returns a tasks.toml of one service running crashCommand,
// restarted at once (backoff 0) however often it is killed (up to 1,000
// times in 5 minutes).
func crashTOML() string {
	return fmt.Sprintf("[services.crash]\nrun = %s\nbackoff = \"0\"\nmax_restarts = 1000\n", tomlString(crashCommand))
}

// startedRE matches the line of crashCommand, as gotask up prefixes it.
var startedRE = regexp.MustCompile(`^\[crash\] started ([0-9]+)$`)

// servicesRestart: the time from SIGKILL of a service's process to the
// first line of the new one, with backoff 0.
func servicesRestart() benchmark {
	var u *upProc
	var pid int                 // the instance's current process
	var spawned []time.Duration // from the kill to gotask's own "started (pid N)"
	var sh *shProc              // the baseline's process
	return benchmark{
		name:        "services/restart-latency-crash-to-running",
		target:      "≤ 1x 50 ms from SIGKILL of a service's process to the first line of the next (backoff \"0\"); baseline: bench reaping a killed `sh` and starting another, for scale",
		ratioTarget: 1,
		wallLimit:   50 * time.Millisecond,
		runs:        20,
		setup: func(ctx context.Context, e *env) error {
			if err := os.WriteFile(e.path("crash.toml"), []byte(crashTOML()), 0o644); err != nil {
				return err
			}
			var err error
			if u, err = startUp(ctx, e, nil, "crash.toml", 1); err != nil {
				return err
			}
			e.cleanup(func() {
				_ = u.stop()
				if len(spawned) > 0 {
					sorted := slices.Clone(spawned)
					slices.Sort(sorted)
					e.notef("from the kill to gotask's own line `started (pid N)`: %s median (%s–%s) over %d crashes; the instance's first line is read after that",
						formatDuration(median(sorted)), formatDuration(sorted[0]), formatDuration(sorted[len(sorted)-1]), len(sorted))
				}
			})
			i, err := instancePid(ctx, u, 0, 0)
			if err != nil {
				return err
			}
			pid = u.log.pidOf(i)
			if sh, err = startSh(); err != nil {
				return err
			}
			e.cleanup(func() { sh.kill() }) // the last one: each run replaces sh
			return nil
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			// Only ever a child of this gotask up: a pid misread must
			// not kill something else.
			if ppid, err := procParent(pid); err != nil || ppid != u.cmd.Process.Pid {
				return sample{}, fmt.Errorf("process %d is not gotask up's (%d) child (parent %d, %v): not killing it", pid, u.cmd.Process.Pid, ppid, err)
			}
			from := u.log.len()
			start := time.Now()
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				return sample{}, fmt.Errorf("kill the instance's process %d: %w", pid, err)
			}
			next, err := instancePid(ctx, u, from, pid)
			if err != nil {
				return sample{}, err
			}
			wall := u.log.at(next).Sub(start)
			// gotask's own line comes on stderr, maybe read later.
			own := fmt.Sprintf("gotask: crash: started (pid %d)", u.log.pidOf(next))
			wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			if i, err := u.log.next(wctx, from, func(s string) bool { return s == own }); err == nil {
				spawned = append(spawned, u.log.at(i).Sub(start))
			}
			pid = u.log.pidOf(next)
			return sample{wall: wall}, nil
		},
		baseline: func(context.Context, *env) (sample, error) { return restartSh(&sh) },
	}
}

// servicesWatch: the time from saving a file a service watches to the
// first line of its next process (the watcher's debounce included).
func servicesWatch() benchmark {
	var u *upProc
	var pid, saves int
	var sh *shProc
	return benchmark{
		name:        "services/watch-save-to-running",
		target:      "≤ 1x 500 ms from saving a watched file to the first line of the service's next process (the watch debounce, 100 ms, included); baseline: bench reaping a killed `sh` and starting another, for scale",
		ratioTarget: 1,
		wallLimit:   500 * time.Millisecond,
		runs:        10,
		setup: func(ctx context.Context, e *env) error {
			if err := os.MkdirAll(e.path("w"), 0o755); err != nil {
				return err
			}
			doc := crashTOML() + "watch = [\"w/*.txt\"]\n"
			if err := os.WriteFile(e.path("watch.toml"), []byte(doc), 0o644); err != nil {
				return err
			}
			var err error
			if u, err = startUp(ctx, e, nil, "watch.toml", 1); err != nil {
				return err
			}
			e.cleanup(func() { _ = u.stop() })
			i, err := instancePid(ctx, u, 0, 0)
			if err != nil {
				return err
			}
			pid = u.log.pidOf(i)
			if sh, err = startSh(); err != nil {
				return err
			}
			e.cleanup(func() { sh.kill() })
			return nil
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			from := u.log.len()
			saves++
			start := time.Now()
			if err := os.WriteFile(e.path("w/a.txt"), []byte(strconv.Itoa(saves)), 0o644); err != nil {
				return sample{}, err
			}
			next, err := instancePid(ctx, u, from, pid)
			if err != nil {
				return sample{}, err
			}
			pid = u.log.pidOf(next)
			return sample{wall: u.log.at(next).Sub(start)}, nil
		},
		baseline: func(context.Context, *env) (sample, error) { return restartSh(&sh) },
	}
}

// restartSh is the restart rows' baseline: kill *sh, reap it and start
// another in its place.
func restartSh(sh **shProc) (sample, error) {
	start := time.Now()
	(*sh).kill()
	next, err := startSh()
	if err != nil {
		return sample{}, err
	}
	*sh = next
	return sample{wall: time.Since(start)}, nil
}

// instancePid waits (2 minutes at most) for the first line of
// crashCommand from line from on whose pid is not old, and returns that
// line's index; u.log.pidOf gives the pid.
func instancePid(ctx context.Context, u *upProc, from, old int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	i, err := u.log.next(ctx, from, func(s string) bool {
		m := startedRE.FindStringSubmatch(s)
		return m != nil && m[1] != strconv.Itoa(old)
	})
	if err != nil {
		return 0, fmt.Errorf("waiting for a new process of service crash (the last was %d): %w; gotask up's last lines:\n%s", old, err, u.log.tail(10))
	}
	return i, nil
}

// shProc is the baseline's stand-in for a service's process.
type shProc struct {
	cmd *exec.Cmd
	out *os.File
}

// startSh starts crashCommand and waits for its line, as a supervisor
// would before calling it running.
func startSh() (*shProc, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c := exec.Command("/bin/sh", "-c", crashCommand)
	c.Stdout = w
	err = c.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	p := &shProc{cmd: c, out: r}
	if line, err := bufio.NewReader(r).ReadString('\n'); err != nil || !strings.HasPrefix(line, "started ") {
		p.kill()
		return nil, fmt.Errorf("sh -c %q printed %q: %v", crashCommand, line, err)
	}
	return p, nil
}

// kill kills p with SIGKILL and reaps it.
func (p *shProc) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.out.Close()
}

// upProc is a `gotask up` that bench started, and every line it has
// printed so far.
type upProc struct {
	cmd  *exec.Cmd
	log  *lineLog
	done chan struct{} // closed once gotask has exited
	err  error         // Wait's, once done is closed
}

// startUp starts `gotask -f file up` in e.dir (through wrap, a command
// line that execs the rest of it, when not empty) and waits (2 minutes
// at most) until it says that all n instances are ready.
func startUp(ctx context.Context, e *env, wrap []string, file string, n int) (*upProc, error) {
	argv := append(slices.Clone(wrap), e.gotask, "-f", file, "up")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	u := &upProc{cmd: cmd, log: newLineLog(), done: make(chan struct{})}
	var readers, writers []*os.File
	for range 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(readers, writers)
			return nil, err
		}
		readers, writers = append(readers, r), append(writers, w)
	}
	cmd.Stdout, cmd.Stderr = writers[0], writers[1]
	err := cmd.Start()
	closeAll(writers)
	if err != nil {
		closeAll(readers)
		return nil, err
	}
	u.log.open = len(readers)
	for _, r := range readers {
		go func() {
			u.log.read(r)
			r.Close()
		}()
	}
	go func() {
		u.err = cmd.Wait()
		close(u.done)
	}()

	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	i, err := u.log.next(wctx, 0, func(s string) bool { return strings.HasPrefix(s, "gotask: up: ") })
	if err != nil {
		_ = u.stop()
		return nil, fmt.Errorf("%s: waiting for it to say its instances are ready: %w; its last lines:\n%s", cmd, err, u.log.tail(10))
	}
	if got, want := u.log.text(i), fmt.Sprintf("gotask: up: %d of %d instances ready", n, n); !strings.HasPrefix(got, want) {
		_ = u.stop()
		return nil, fmt.Errorf("%s said %q, want %q; its last lines:\n%s", cmd, got, want, u.log.tail(10))
	}
	// Each instance's own "ready" line may come after up's: wait for
	// them too, so that what follows is quiet.
	for from, seen := 0, 0; seen < n; seen++ {
		j, err := u.log.next(wctx, from, func(s string) bool { return readyRE.MatchString(s) })
		if err != nil {
			_ = u.stop()
			return nil, fmt.Errorf("%s: waiting for %d instances to say ready, %d did: %w; its last lines:\n%s", cmd, n, seen, err, u.log.tail(10))
		}
		from = j + 1
	}
	return u, nil
}

// readyRE matches gotask's line saying that an instance is ready.
var readyRE = regexp.MustCompile(`^gotask: [^ ]+: ready$`)

func closeAll(lists ...[]*os.File) {
	for _, l := range lists {
		for _, f := range l {
			f.Close()
		}
	}
}

// stop stops gotask up as SIGTERM does (it stops its instances first)
// and waits for it: 30 s, then it is killed and stop says so.
func (u *upProc) stop() error {
	select {
	case <-u.done:
		return nil
	default:
	}
	_ = u.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case <-u.done:
		return nil
	case <-t.C:
		_ = u.cmd.Process.Kill()
		<-u.done
		return fmt.Errorf("%s did not end within 30 s of SIGTERM; killed", u.cmd)
	}
}

// line is one line a process printed, and when bench read it.
type line struct {
	text string
	at   time.Time
}

// lineLog holds the lines of a process's streams, read as they come so
// that the process never waits on bench.
type lineLog struct {
	mu      sync.Mutex
	lines   []line
	open    int           // streams still being read
	changed chan struct{} // closed and replaced at each line and each end of a stream
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

// read adds r's lines, each stamped when read, until r ends.
func (l *lineLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		ln := line{text: sc.Text(), at: time.Now()}
		l.mu.Lock()
		l.lines = append(l.lines, ln)
		l.wakeLocked()
		l.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r) // past a line too long, still never block the writer
	l.mu.Lock()
	l.open--
	l.wakeLocked()
	l.mu.Unlock()
}

func (l *lineLog) wakeLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// next returns the index of the first line from index from on that
// match takes, waiting for more until ctx ends or every stream has.
func (l *lineLog) next(ctx context.Context, from int, match func(string) bool) (int, error) {
	for {
		l.mu.Lock()
		for ; from < len(l.lines); from++ {
			if match(l.lines[from].text) {
				l.mu.Unlock()
				return from, nil
			}
		}
		open, changed := l.open, l.changed
		l.mu.Unlock()
		if open == 0 {
			return 0, errors.New("its output ended")
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func (l *lineLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

func (l *lineLog) text(i int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines[i].text
}

func (l *lineLog) at(i int) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines[i].at
}

// pidOf returns the pid in line i, a line of crashCommand; 0 if it is not one.
func (l *lineLog) pidOf(i int) int {
	m := startedRE.FindStringSubmatch(l.text(i))
	if m == nil {
		return 0
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// tail returns the last n lines, for error messages.
func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tailLocked(n)
}

func (l *lineLog) tailLocked(n int) string {
	var b strings.Builder
	for _, ln := range l.lines[max(len(l.lines)-n, 0):] {
		b.WriteString("  " + ln.text + "\n")
	}
	return b.String()
}

// crash returns the first 40 lines from a Go panic or fatal error on,
// or the last 10 lines when there was none.
func (l *lineLog) crash() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, ln := range l.lines {
		if strings.HasPrefix(ln.text, "panic: ") || strings.HasPrefix(ln.text, "fatal error: ") {
			var b strings.Builder
			for _, ln := range l.lines[i:min(i+40, len(l.lines))] {
				b.WriteString("  " + ln.text + "\n")
			}
			return b.String()
		}
	}
	return l.tailLocked(10)
}

// procCPU returns pid's own CPU time, user and system, without its
// children's, from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	cpu, err := parseStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return cpu, nil
}

// procParent returns pid's parent, from /proc/PID/stat.
func procParent(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f, err := statFields(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return strconv.Atoi(f[1])
}

// statFields returns the fields of a /proc/PID/stat line from field 3
// (state) on, at least 13 of them (to stime, field 15). The command
// name, field 2, is in parentheses and may hold spaces and parentheses
// of its own.
func statFields(b []byte) ([]string, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("no command name in parentheses")
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3
	if len(f) < 13 {
		return nil, fmt.Errorf("%d fields, want at least 15", len(f)+2)
	}
	return f, nil
}

// parseStatCPU returns utime + stime (fields 14 and 15, in clock ticks
// of 1/100 s) of a /proc/PID/stat line.
func parseStatCPU(b []byte) (time.Duration, error) {
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100, nil
}

// statusBytes returns the value of key ("VmRSS"), given in kB, in a
// /proc/PID/status text, in bytes.
func statusBytes(status, key string) (int64, error) {
	for l := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(l, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: %q is not a number of kB", key, strings.TrimSpace(rest))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s line", key)
}

// formatMBs prints sizes as "median (min–max)" in MB.
func formatMBs(sizes []int64) string {
	s := slices.Clone(sizes)
	slices.Sort(s)
	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf("%s (%s–%s)", mb(m), mb(s[0]), mb(s[len(s)-1]))
}
