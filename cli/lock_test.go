package cli_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
)

// proc is a gotask process started by a test, with its output.
type proc struct {
	cmd    *exec.Cmd
	out    *syncBuffer // stdout and stderr
	done   chan struct{}
	err    error
	linesC chan struct{} // gets a value after each write
}

// startGotask starts bin with args in dir, its process killed when the
// test ends.
func startGotask(t *testing.T, bin, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{out: &syncBuffer{}, done: make(chan struct{}), linesC: make(chan struct{}, 1)}
	p.out.onWrite = func(string) {
		select {
		case p.linesC <- struct{}{}:
		default:
		}
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// waitOutput waits until the process's output matches re, and returns
// the match.
func (p *proc) waitOutput(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	guard := time.After(hangGuard)
	for {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			return m
		}
		select {
		case <-p.linesC:
		case <-p.done:
			if m := re.FindStringSubmatch(p.out.String()); m != nil {
				return m
			}
			t.Fatalf("gotask ended (%v) without printing %q; output:\n%s", p.err, re, p.out)
		case <-guard:
			t.Fatalf("gotask did not print %q; output:\n%s", re, p.out)
		}
	}
}

// wait waits for the process to end and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(hangGuard):
		t.Fatalf("gotask did not end; output:\n%s", p.out)
	}
	return p.cmd.ProcessState.ExitCode()
}

// waitFile waits until the file holds want.
func waitFile(t *testing.T, path, want string) {
	t.Helper()
	guard := time.After(hangGuard)
	for {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
		select {
		case <-guard:
			b, _ := os.ReadFile(path)
			t.Fatalf("%s never held %q; it holds %q", path, want, b)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func me(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// lockTasks is a task with a lock whose command logs its start, writes
// its shell's pid, blocks until a file named release exists, and logs
// its end.
const lockTasks = `[tasks.deploy]
lock = true
args = [{ name = "id" }]
run = "echo start {{.id}} >> log; echo $$ > pid.{{.id}}; while [ ! -e release ]; do sleep 0.05; done; echo end {{.id}} >> log"
`

// killGroupOf kills the process group whose leader's pid is in file (a
// command the test's gotask started), if there is one.
func killGroupOf(t *testing.T, file string) {
	t.Helper()
	if pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, file))); err == nil && pid > 1 {
		syscall.Kill(-pid, syscall.SIGKILL)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func TestLockSecondGotaskWaits(t *testing.T) {
	t.Parallel()
	bin := gotaskBinary(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tasks.toml"), lockTasks)
	log := filepath.Join(dir, "log")
	releaseOnCleanup(t, dir)

	a := startGotask(t, bin, dir, "deploy", "--id", "a")
	waitFile(t, log, "start a\n")
	b := startGotask(t, bin, dir, "deploy", "--id", "b")
	b.waitOutput(t, regexp.MustCompile(fmt.Sprintf(`gotask: waiting for lock deploy held by pid %d \(%s, since \d\d:\d\d:\d\d\)\n`,
		a.cmd.Process.Pid, regexp.QuoteMeta(me(t)))))
	// b said it waits, so it tried the lock: its command must not have
	// started.
	if got := readFile(t, log); got != "start a\n" {
		t.Fatalf("while a holds the lock, the log is %q", got)
	}
	writeFile(t, filepath.Join(dir, "release"), "")
	if code := a.wait(t); code != 0 {
		t.Fatalf("a: exit %d, output:\n%s", code, a.out)
	}
	if code := b.wait(t); code != 0 {
		t.Fatalf("b: exit %d, output:\n%s", code, b.out)
	}
	if got, want := readFile(t, log), "start a\nend a\nstart b\nend b\n"; got != want {
		t.Errorf("log %q, want %q: b ran while a held the lock", got, want)
	}
	if n := strings.Count(b.out.String(), "waiting for lock"); n != 1 {
		t.Errorf("b said it waits %d times, want once:\n%s", n, b.out)
	}
	st, err := os.Stat(filepath.Join(dir, ".gotask", "locks", "deploy.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v, want 0600", st.Mode().Perm())
	}
	if st, err := os.Stat(filepath.Join(dir, ".gotask", "locks")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("locks directory: %v, %v; want mode 0700", st.Mode().Perm(), err)
	}
}

func TestLockNoWaitFailsNamingTheHolder(t *testing.T) {
	t.Parallel()
	bin := gotaskBinary(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tasks.toml"), lockTasks)
	log := filepath.Join(dir, "log")
	releaseOnCleanup(t, dir)
	t.Cleanup(func() { killGroupOf(t, filepath.Join(dir, "pid.a")) })

	a := startGotask(t, bin, dir, "deploy", "--id", "a")
	waitFile(t, log, "start a\n")
	out, err := gotaskGuarded(t, bin, dir, "--no-wait", "deploy", "--id", "b")
	var ee *exec.ExitError
	if err == nil || !errorsAs(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("--no-wait while the lock is held: %v, want exit status 1; output:\n%s", err, out)
	}
	want := regexp.MustCompile(fmt.Sprintf(`^gotask: task "deploy": lock deploy held by pid %d \(%s, since \d\d:\d\d:\d\d\)\n$`,
		a.cmd.Process.Pid, regexp.QuoteMeta(me(t))))
	if !want.MatchString(out) {
		t.Errorf("--no-wait printed %q, want it to match %q", out, want)
	}
	if got := readFile(t, log); got != "start a\n" {
		t.Errorf("--no-wait ran its command anyway: log %q", got)
	}
	writeFile(t, filepath.Join(dir, "release"), "")
	if code := a.wait(t); code != 0 {
		t.Fatalf("a: exit %d", code)
	}
	// Free again: --no-wait runs.
	if out, err := gotaskGuarded(t, bin, dir, "--no-wait", "deploy", "--id", "c"); err != nil {
		t.Errorf("--no-wait with the lock free: %v\n%s", err, out)
	}
}

// SIGKILL of the holder releases the lock (the kernel drops the flock),
// even though the command it started lives on: the lock file is never
// inherited by commands.
func TestLockReleasedWhenHolderIsKilled(t *testing.T) {
	t.Parallel()
	bin := gotaskBinary(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tasks.toml"), lockTasks)
	log := filepath.Join(dir, "log")
	releaseOnCleanup(t, dir)
	t.Cleanup(func() {
		writeFile(t, filepath.Join(dir, "release"), "")
		killGroupOf(t, filepath.Join(dir, "pid.a"))
		killGroupOf(t, filepath.Join(dir, "pid.b"))
	})

	a := startGotask(t, bin, dir, "deploy", "--id", "a")
	waitFile(t, log, "start a\n")
	b := startGotask(t, bin, dir, "deploy", "--id", "b")
	b.waitOutput(t, regexp.MustCompile(`waiting for lock deploy held by pid `+strconv.Itoa(a.cmd.Process.Pid)))
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.wait(t)
	// a's command still runs (its shell waits for release), and b gets
	// the lock all the same.
	waitFile(t, log, "start b\n")
	if pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(dir, "pid.a")))); pid <= 1 || syscall.Kill(pid, 0) != nil {
		t.Logf("a's command is gone too (pid %d)", pid)
	}
	writeFile(t, filepath.Join(dir, "release"), "")
	if code := b.wait(t); code != 0 {
		t.Fatalf("b: exit %d, output:\n%s", code, b.out)
	}
}

// releaseOnCleanup lets every command waiting in dir end when the test
// ends, passed or failed, before the directory is removed.
func releaseOnCleanup(t *testing.T, dir string) {
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, "release"), nil, 0o644)
		for _, id := range []string{"a", "b", "c", "d"} {
			killGroupOf(t, filepath.Join(dir, "pid."+id))
		}
	})
}

// gotaskGuarded is gotask with a hang guard: a run that should return at
// once but waits fails the test instead of hanging it.
func gotaskGuarded(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("gotask %s did not return:\n%s", strings.Join(args, " "), out)
	}
	return string(out), err
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// remoteLockTasks runs lockTasks' command on the host box, in dir.
func remoteLockTasks(dir, extra string) string {
	return fmt.Sprintf(`[tasks.deploy]
hosts = ["box"]
lock = %s
args = [{ name = "id" }]
run = "cd %s && echo start {{.id}} >> log; while [ ! -e release ]; do sleep 0.05; done; echo end {{.id}} >> log"
`, extra, dir)
}

func TestRemoteLockTwoRunsOnOneHost(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "box")
	bin := gotaskBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "tasks.toml")
	writeFile(t, file, remoteLockTasks(dir, "true"))
	log := filepath.Join(dir, "log")
	releaseOnCleanup(t, dir)
	lockDir := filepath.Join(s.d.Home, ".gotask-locks", "deploy")

	a := startGotask(t, bin, dir, "-F", s.Config, "deploy", "--id", "a")
	waitFile(t, log, "start a\n")
	info := readFile(t, filepath.Join(lockDir, "info"))
	if !strings.Contains(info, fmt.Sprintf("pid=%d\n", a.cmd.Process.Pid)) {
		t.Errorf("the host's lock info %q does not name a's pid %d", info, a.cmd.Process.Pid)
	}
	b := startGotask(t, bin, dir, "-F", s.Config, "deploy", "--id", "b")
	b.waitOutput(t, regexp.MustCompile(fmt.Sprintf(`waiting for lock deploy on box held by pid %d \(%s, since \d\d:\d\d:\d\d\)\n`,
		a.cmd.Process.Pid, regexp.QuoteMeta(me(t)))))
	out, err := gotaskGuarded(t, bin, dir, "-F", s.Config, "--no-wait", "deploy", "--id", "c")
	if err == nil || !strings.Contains(out, fmt.Sprintf("lock deploy held by pid %d", a.cmd.Process.Pid)) {
		t.Errorf("--no-wait on the host: %v, output:\n%s", err, out)
	}
	if got := readFile(t, log); got != "start a\n" {
		t.Fatalf("while a holds the host's lock, the log is %q", got)
	}
	writeFile(t, filepath.Join(dir, "release"), "")
	if code := a.wait(t); code != 0 {
		t.Fatalf("a: exit %d, output:\n%s", code, a.out)
	}
	if code := b.wait(t); code != 0 {
		t.Fatalf("b: exit %d, output:\n%s", code, b.out)
	}
	if got, want := readFile(t, log), "start a\nend a\nstart b\nend b\n"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
	if _, err := os.Stat(lockDir); !os.IsNotExist(err) {
		t.Errorf("the host's lock directory is still there after both runs: %v", err)
	}
}

func TestRemoteLockStaleRecovered(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "box")
	bin := gotaskBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "tasks.toml")
	writeFile(t, filepath.Join(dir, "release"), "")
	lockDir := filepath.Join(s.d.Home, ".gotask-locks", "deploy")
	hostname, _ := os.Hostname()
	boot := ""
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		boot = strings.TrimSpace(string(b))
	}
	plantBoot := func(host, boot string, pid int, since time.Time) {
		t.Helper()
		writeFile(t, filepath.Join(lockDir, "info"), fmt.Sprintf("pid=%d\nuser=someone\nhost=%s\nboot=%s\nsince=%d\ntoken=planted\n", pid, host, boot, since.Unix()))
	}
	plant := func(host string, pid int, since time.Time) { t.Helper(); plantBoot(host, boot, pid, since) }
	// A pid that was a process of this machine and is gone.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead := gone.Process.Pid

	// A holder of this machine whose gotask is gone (SIGKILLed, say).
	writeFile(t, file, remoteLockTasks(dir, "true"))
	plant(hostname, dead, time.Now())
	out, err := gotaskGuarded(t, bin, dir, "-F", s.Config, "--no-wait", "deploy", "--id", "a")
	if err != nil || !strings.Contains(out, fmt.Sprintf("gotask: recovered lock deploy on box held by pid %d (someone, since ", dead)) ||
		!strings.Contains(out, fmt.Sprintf("its gotask (pid %d on %s) is gone", dead, hostname)) {
		t.Errorf("a lock whose holder is gone: %v, output:\n%s", err, out)
	}

	// A holder on another machine, alive as far as anyone here knows,
	// for longer than the stale bound.
	old := time.Now().Add(-13 * time.Hour)
	plant("elsewhere.example", os.Getpid(), old)
	out, err = gotaskGuarded(t, bin, dir, "-F", s.Config, "--no-wait", "deploy", "--id", "b")
	if err != nil || !strings.Contains(out, "recovered lock deploy on box held by pid") || !strings.Contains(out, "older than 12h0m0s") {
		t.Errorf("a lock older than the stale bound: %v, output:\n%s", err, out)
	}

	// The same age within a bound the task sets: held, not recovered.
	writeFile(t, file, remoteLockTasks(dir, `{ stale = "24h" }`))
	plant("elsewhere.example", os.Getpid(), old)
	out, err = gotaskGuarded(t, bin, dir, "-F", s.Config, "--no-wait", "deploy", "--id", "c")
	if err == nil || !strings.Contains(out, fmt.Sprintf("lock deploy held by pid %d (someone@elsewhere.example, since ", os.Getpid())) {
		t.Errorf("a lock younger than stale = 24h: %v, output:\n%s", err, out)
	}
	// A holder of another machine that has this machine's name: its pid
	// means nothing here, so it is not taken as gone.
	plantBoot(hostname, "another-boot", dead, time.Now())
	out, err = gotaskGuarded(t, bin, dir, "-F", s.Config, "--no-wait", "deploy", "--id", "e")
	if err == nil || strings.Contains(out, "recovered") {
		t.Errorf("a lock of another boot under this host name: %v, output:\n%s", err, out)
	}
	// A live holder of this machine is never recovered.
	plant(hostname, os.Getpid(), time.Now())
	out, err = gotaskGuarded(t, bin, dir, "-F", s.Config, "--no-wait", "deploy", "--id", "d")
	if err == nil || strings.Contains(out, "recovered") {
		t.Errorf("a lock whose holder lives: %v, output:\n%s", err, out)
	}
	if got := readFile(t, filepath.Join(dir, "log")); got != "start a\nend a\nstart b\nend b\n" {
		t.Errorf("log %q", got)
	}
}
