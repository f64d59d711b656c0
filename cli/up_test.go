package cli_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/service"
)

// syncBuf is an output buffer that a test reads while a process writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// upHang bounds every wait: the tests wait on events (a line, a file),
// and this only stops one that hangs.
const upHang = 2 * time.Minute

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(upHang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", upHang, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	var pid int
	waitFor(t, path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

// gone says pid is no running process (a zombie waiting for a reaper
// that is not gotask counts as gone: it runs nothing).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && bytes.HasPrefix(bytes.TrimSpace(b[i+1:]), []byte("Z"))
}

// upProject is a project of a task and three services: fam starts a
// child, a grandchild and a setsid'd child; web waits for fam to be ready
// and echoes a hostile var; crash keeps crashing (only when withCrash).
func upProject(t *testing.T, withCrash bool) (dir, file string) {
	dir = t.TempDir()
	doc := `
[vars]
evil = "placeholder"

[tasks.prepare]
run = "echo prepared > prepared"

[services.fam]
run = """
sh -c 'sleep 300 & echo $! > grandchild.pid; wait' &
echo $! > child.pid
setsid sh -c 'echo $$ > setsid.pid; exec sleep 300' &
echo $$ > fam.pid
wait
"""
ready = { sh = "test -f setsid.pid" }
deps = ["prepare"]

[services.web]
run = "echo web got {{.evil}}; echo $$ > web.pid; exec sleep 300"
deps = ["fam"]
`
	if withCrash {
		doc += `
[services.crash]
run = "echo crashing; exit 3"
backoff = "0"
max_restarts = 2
`
	}
	file = filepath.Join(dir, "tasks.toml")
	writeFile(t, file, doc)
	return dir, file
}

// startUp runs gotask up on file and kills its process group when the
// test ends, in case it failed half way.
func startUp(t *testing.T, file string, args ...string) (*exec.Cmd, *syncBuf) {
	t.Helper()
	hostile := `$(touch pwned1)` + "`touch pwned2`" + `'; touch pwned3`
	return runGotask(t, filepath.Dir(file), append([]string{"-f", file, "--var", "evil=" + hostile, "up"}, args...)...)
}

// runGotask starts gotask with args in dir, its output in the returned
// buffer, and kills its process group when the test ends.
func runGotask(t *testing.T, dir string, args ...string) (*exec.Cmd, *syncBuf) {
	t.Helper()
	cmd := exec.Command(gotaskBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	buf := &syncBuf{}
	cmd.Stdout, cmd.Stderr = buf, buf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("gotask printed:\n%s", buf)
		}
	})
	return cmd, buf
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(upHang):
		t.Fatalf("gotask up did not end")
	}
	return cmd.ProcessState.ExitCode()
}

// TestUpCtrlCLeavesNoProcess: Ctrl-C (SIGINT) to gotask up stops every
// instance and leaves no process behind: the shell, its child, its
// grandchild and, where instances get a cgroup, its setsid'd child. The
// summary names each instance, and the crashing service that gave up
// makes the exit status 1.
func TestUpCtrlCLeavesNoProcess(t *testing.T) {
	dir, file := upProject(t, true)
	cmd, out := startUp(t, file)
	pids := map[string]int{}
	for _, n := range []string{"fam", "child", "grandchild", "setsid", "web"} {
		pids[n] = readPid(t, filepath.Join(dir, n+".pid"))
	}
	if !service.Cgroups() {
		t.Logf("no cgroup here: the setsid'd child is out of reach (README: Services)")
		_ = syscall.Kill(pids["setsid"], syscall.SIGKILL)
		delete(pids, "setsid")
	}
	waitFor(t, "crash to give up", func() bool {
		return strings.Contains(out.String(), "gotask: crash: failed: exit 3; gave up after 2 restarts")
	})
	waitFor(t, "the ready line", func() bool { return strings.Contains(out.String(), "gotask: up: ") })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd); code != 1 {
		t.Errorf("exit status %d, want 1 (a service failed)", code)
	}
	for n, pid := range pids {
		if !gone(pid) {
			t.Errorf("%s (pid %d) outlived gotask up", n, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	got := out.String()
	for _, want := range []string{
		"\ngotask up: 3 instances, 1 failed\n",
		"  crash     failed   restarts 2    last exit 3        up -  exit 3; gave up after 2 restarts in 5m0s (max_restarts)\n",
		"gotask: service crash failed: exit 3",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	for _, n := range []string{"fam", "web"} {
		if !strings.Contains(got, fmt.Sprintf("\n  %-8s  stopped  restarts 0    last ", n)) {
			t.Errorf("the summary lacks a stopped line for %s", n)
		}
	}
	// The task in fam's deps ran first, once; web's var stayed literal.
	if b, _ := os.ReadFile(filepath.Join(dir, "prepared")); string(b) != "prepared\n" {
		t.Errorf("the dep task did not run: %q", b)
	}
	if !strings.Contains(got, "[web]   web got $(touch pwned1)`touch pwned2`'; touch pwned3\n") {
		t.Errorf("web did not print the hostile value as it is")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "pwned*")); len(m) > 0 {
		t.Errorf("a var ran as code: %v", m)
	}
}

// TestUpSIGTERMStopsCleanly: SIGTERM stops everything as Ctrl-C does;
// with no failed instance gotask up exits 0.
func TestUpSIGTERMStopsCleanly(t *testing.T) {
	dir, file := upProject(t, false)
	cmd, out := startUp(t, file, "web")
	pids := map[string]int{}
	for _, n := range []string{"fam", "child", "grandchild", "web"} {
		pids[n] = readPid(t, filepath.Join(dir, n+".pid"))
	}
	setsid := readPid(t, filepath.Join(dir, "setsid.pid"))
	if service.Cgroups() {
		pids["setsid"] = setsid
	} else {
		t.Cleanup(func() { _ = syscall.Kill(setsid, syscall.SIGKILL) })
	}
	waitFor(t, "the ready line", func() bool { return strings.Contains(out.String(), "gotask: up: 2 of 2 instances ready") })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	for n, pid := range pids {
		if !gone(pid) {
			t.Errorf("%s (pid %d) outlived gotask up", n, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if got := out.String(); !strings.Contains(got, "\ngotask up: 2 instances, 0 failed\n") {
		t.Errorf("no summary")
	}
}

// TestExampleStackUp runs the two-service stack of examples/tasks.toml
// as written, with gotask up, on a copy of the example directory (its
// build writes bin/stack): the API becomes ready, both workers take
// jobs from it, and Ctrl-C stops all three cleanly.
func TestExampleStackUp(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the example stack is built with the go command")
	}
	dir := t.TempDir()
	for _, f := range []string{"tasks.toml", "web/tasks.toml", "stack/main.go"} {
		b, err := os.ReadFile(filepath.Join("..", "examples", f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f), string(b))
	}
	// The copy is a module of its own: the stack imports nothing else.
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/stack\n\ngo 1.26\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	cmd, out := runGotask(t, dir, "-f", filepath.Join(dir, "tasks.toml"), "--var", "api_addr="+addr, "up")
	waitFor(t, "both workers to take a job", func() bool {
		s := out.String()
		return strings.Contains(s, "[worker.1] worker-1: did job ") && strings.Contains(s, "[worker.2] worker-2: did job ")
	})
	if !strings.Contains(out.String(), "gotask: up: 3 of 3 instances ready") {
		t.Errorf("up did not report 3 instances ready")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	got := out.String()
	for _, want := range []string{"api: stopping, finishing requests in flight", "\ngotask up: 3 instances, 0 failed\n", "  worker.2  stopped  restarts 0    last exit 0 "} {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
}

// TestUpSecondCtrlCKills: an instance that ignores its stop signal has
// stop_grace (here an hour) before it is killed; a second Ctrl-C kills
// it at once, and gotask up still ends with nothing left behind.
func TestUpSecondCtrlCKills(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tasks.toml")
	writeFile(t, file, `
[vars]
evil = "" # startUp sets it

[services.stubborn]
run = "trap 'echo got TERM > term' TERM; echo $$ > stubborn.pid; while :; do sleep 0.05; done"
stop_grace = "1h"
`)
	cmd, out := startUp(t, file)
	pid := readPid(t, filepath.Join(dir, "stubborn.pid"))
	waitFor(t, "the ready line", func() bool { return strings.Contains(out.String(), "gotask: up: 1 of 1 instances ready") })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stop signal to arrive", func() bool {
		_, err := os.Stat(filepath.Join(dir, "term"))
		return err == nil
	})
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	exitCode(t, cmd)
	if !gone(pid) {
		t.Errorf("stubborn (pid %d) outlived gotask up", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	got := out.String()
	if !strings.Contains(got, "gotask: up: killing what is still stopping") || !strings.Contains(got, "gotask: stubborn: stopped (signal KILL)") {
		t.Errorf("the output does not say it killed stubborn")
	}
}

// TestTaskNice: nice = N on a task runs its commands N above gotask's
// own niceness, from their first instruction (the shell, and what it
// starts).
func TestTaskNice(t *testing.T) {
	self, err := service.ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.Nice > 19-4 {
		t.Skipf("this test runs at nice %d already", self.Nice)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "tasks.toml")
	writeFile(t, file, "[tasks.low]\nnice = 4\nrun = \"nice; sh -c nice\"\n[tasks.plain]\nrun = \"nice\"\n")
	stdout, stderr, code := runMain(t, "-f", file, "low", "plain")
	want := fmt.Sprintf("%d\n%d\n%d\n", self.Nice+4, self.Nice+4, self.Nice)
	if code != 0 || stdout != want {
		t.Errorf("exit %d, stdout %q, want %q (stderr %q)", code, stdout, want, stderr)
	}
	writeFile(t, file, "[tasks.far]\nnice = 4\nhosts = [\"web1\"]\nrun = \"true\"\n")
	_, stderr, code = runMain(t, "-f", file, "far")
	if code != 2 || !strings.Contains(stderr, `task "far": nice is not yet supported for tasks with hosts`) {
		t.Errorf("nice with hosts: exit %d, stderr %q", code, stderr)
	}
}

// TestUpServicesCannotForgeEachOthersLines: a service's output goes
// through the same prefixing and cleaning as hosts' output: a carriage
// return or cursor movement cannot make its text pass for another
// service's line. Services that end by themselves (restart = "no")
// end gotask up, which then exits 0.
func TestUpServicesCannotForgeEachOthersLines(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tasks.toml")
	writeFile(t, file, `
[services.a]
run = "printf '\\r[bb] forged by a\\n\\033[2K\\033[1G[bb] erased by a\\n'"
restart = "no"

[services.bb]
run = "echo honest"
restart = "no"
`)
	stdout, stderr, code := runMain(t, "-f", file, "up")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for line := range strings.Lines(stdout) {
		if strings.ContainsAny(line, "\r\x1b") {
			t.Errorf("a control character reached the terminal: %q", line)
		}
		if strings.Contains(line, "by a") && !strings.HasPrefix(line, "[a]  ") {
			t.Errorf("a's line does not start with a's prefix: %q", line)
		}
	}
	if !strings.Contains(stdout, "[bb] honest\n") || strings.Count(stdout, "[a]  ") != 2 {
		t.Errorf("stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "gotask up: 2 instances, 0 failed") {
		t.Errorf("no summary:\n%s", stderr)
	}
}

// TestUpStopsWhenItsReaderGoes: when what reads gotask up's output goes
// away (gotask up | head -1) or its terminal hangs up, up stops its
// services as on Ctrl-C; it used to die of SIGPIPE (or SIGHUP) and leave
// them running.
func TestUpStopsWhenItsReaderGoes(t *testing.T) {
	for _, how := range []string{"pipe closed", "SIGHUP"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "tasks.toml")
			writeFile(t, file, `
[services.talk]
run = "echo $$ > talk.pid; while :; do echo tick; sleep 0.05; done"
`)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(gotaskBinary(t), "-f", file, "up")
			cmd.Dir, cmd.Env = dir, append(os.Environ(), "NO_COLOR=1")
			cmd.Stdout, cmd.Stderr = w, w
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			pid := readPid(t, filepath.Join(dir, "talk.pid"))
			line := make([]byte, 64)
			if _, err := r.Read(line); err != nil {
				t.Fatal(err)
			}
			if how == "pipe closed" {
				r.Close()
			} else {
				go func() { _, _ = io.Copy(io.Discard, r) }()
				if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
			}
			exitCode(t, cmd)
			if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && st.Signaled() {
				t.Errorf("gotask up was killed by %v instead of stopping its services", st.Signal())
			}
			if !gone(pid) {
				t.Errorf("the service (pid %d) outlived gotask up", pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	}
}
