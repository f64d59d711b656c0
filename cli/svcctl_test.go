package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gotask/gotask/internal/sshtest"
)

// testHTTPServer is gotask-test-http ADDR: it answers every request with
// "ok PID" on ADDR until SIGTERM, then ends its connections gracefully.
func testHTTPServer() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gotask-test-http ADDR")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "ok %d\n", os.Getpid())
	})}
	go srv.Serve(ln)
	fmt.Printf("listening on %s\n", os.Args[1])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	os.Exit(0)
}

// svcRun runs gotask with args in dir and returns its stdout, stderr
// and exit status.
func svcRun(t *testing.T, bin, dir string, args ...string) (string, string, int) {
	t.Helper()
	// Not t.Context: cleanups run gotask down after it has ended.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // hang guard
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("gotask %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// mustRun runs gotask and fails the test unless it exits 0.
func mustRun(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	out, errOut, code := svcRun(t, bin, dir, args...)
	if code != 0 {
		t.Fatalf("gotask %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// portPrefix returns digits P such that ports P1 and P2 are free.
func portPrefix(t *testing.T) string {
	t.Helper()
	for p := 2000 + os.Getpid()%4000; ; p++ {
		free := true
		for r := 1; r <= 2; r++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d%d", p, r))
			if err != nil {
				free = false
				break
			}
			ln.Close()
		}
		if free {
			return strconv.Itoa(p)
		}
	}
}

// psEntry is a row of gotask ps --json.
type psEntry struct {
	Service  string  `json:"service"`
	Replica  int     `json:"replica"`
	Pid      int     `json:"pid"`
	State    string  `json:"state"`
	Restarts int     `json:"restarts"`
	RSS      uint64  `json:"rss_bytes"`
	Nice     int     `json:"nice"`
	CPU      float64 `json:"cpu_percent"`
}

func psJSON(t *testing.T, bin, dir string) []psEntry {
	t.Helper()
	var rows []psEntry
	if err := json.Unmarshal([]byte(mustRun(t, bin, dir, "ps", "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// procStat reads the RSS (bytes) and nice of pid from /proc/PID/stat.
func procStat(t *testing.T, pid int) (rss uint64, nice int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	pages, _ := strconv.ParseUint(f[24-3], 10, 64)
	nice, _ = strconv.Atoi(f[19-3])
	return pages * uint64(os.Getpagesize()), nice
}

const servicesToml = `[vars]
ports = "%s"

[services.api]
help = "HTTP, one port per replica"
run = "exec gotask-test-http 127.0.0.1:{{.ports}}{{.replica}}"
replicas = 2
ready = { http = "http://127.0.0.1:{{.ports}}{{.replica}}/" }
nice = 3

# The worker says whether it got up -d's pipe to its parent (it should
# not), and tries to pass a line of its own for one of api's.
[services.worker]
run = """echo worker up $$ ${GOTASK_INTERNAL_UP_READY_FD:-noenv} $(test -e /proc/self/fd/3 && echo fd3 || echo nofd3)
printf '[api.1] forged by worker\\ngotask: api.1: forged by worker\\n'
exec sleep 600"""
`

// TestServicesDetached drives a project's services from the outside, as
// a user does, in a project 200 bytes deep (its socket path too long
// for a socket address): nothing running; up -d; ps against /proc;
// logs -f; a rolling restart while a client asks the two replicas in a
// loop; stop; up again; down, which leaves no process.
func TestServicesDetached(t *testing.T) {
	bin := gotaskBinary(t)
	dir := t.TempDir()
	for len(dir) < 200 {
		dir = filepath.Join(dir, "a-long-directory-name-for-the-project")
	}
	ports := portPrefix(t)
	writeFile(t, filepath.Join(dir, "tasks.toml"), fmt.Sprintf(servicesToml, ports))
	t.Cleanup(func() { svcRun(t, bin, dir, "down") })

	// Nothing running.
	for _, verb := range []string{"ps", "restart", "stop", "logs"} {
		_, errOut, code := svcRun(t, bin, dir, verb)
		if want := "gotask: no services running in " + dir + "; start them with gotask up\n"; code != 1 || errOut != want {
			t.Errorf("gotask %s with nothing running: exit %d, %q; want 1, %q", verb, code, errOut, want)
		}
	}
	if out := mustRun(t, bin, dir, "down"); out != "no services running in "+dir+"; nothing to stop\n" {
		t.Errorf("down with nothing running: %q", out)
	}

	out := mustRun(t, bin, dir, "up", "-d")
	if !strings.Contains(out, "3 of 3 instances ready") {
		t.Errorf("up -d: %q", out)
	}
	run := filepath.Join(dir, ".gotask", "run")
	for name, want := range map[string]os.FileMode{run: os.ModeDir | 0o700, filepath.Join(run, "control.sock"): os.ModeSocket | 0o600} {
		if fi, err := os.Lstat(name); err != nil || fi.Mode() != want {
			t.Errorf("%s: %v %v, want mode %v", name, fi.Mode(), err, want)
		}
	}
	supPid, _ := strconv.Atoi(strings.TrimSpace(mustReadFile(t, filepath.Join(run, "supervisor.pid"))))
	if gone(supPid) {
		t.Fatalf("the supervisor (pid %d) is not running", supPid)
	}
	// Its own session: a terminal's hang-up or Ctrl-C never reaches it.
	if sid, _ := unix.Getsid(supPid); sid != supPid {
		t.Errorf("the supervisor's session is %d, want its own (%d)", sid, supPid)
	}

	// ps matches /proc.
	_, ownNice := procStat(t, os.Getpid()) // the tests may run under nice
	rows := psJSON(t, bin, dir)
	if len(rows) != 3 {
		t.Fatalf("ps: %+v", rows)
	}
	// The worker (no ready check) is ready as soon as it starts, maybe
	// still as sh before its exec; its RSS is steady once it sleeps.
	waitFor(t, "the worker to exec sleep", func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", rows[2].Pid))
		return strings.HasPrefix(string(b), "sleep\x00")
	})
	rows = psJSON(t, bin, dir)
	for _, r := range rows {
		if r.State != "ready" || gone(r.Pid) {
			t.Errorf("%s.%d: state %s, pid %d alive %v", r.Service, r.Replica, r.State, r.Pid, !gone(r.Pid))
			continue
		}
		rss, nice := procStat(t, r.Pid)
		if r.RSS != rss || r.Nice != nice {
			t.Errorf("%s.%d: ps says RSS %d nice %d, /proc says %d %d", r.Service, r.Replica, r.RSS, r.Nice, rss, nice)
		}
		if wantNice := min(19, ownNice+map[string]int{"api": 3, "worker": 0}[r.Service]); r.Nice != wantNice {
			t.Errorf("%s.%d: nice %d, want %d", r.Service, r.Replica, r.Nice, wantNice)
		}
	}
	table := mustRun(t, bin, dir, "ps")
	if !strings.HasPrefix(table, "SERVICE  REPLICA  PID") || !strings.Contains(table, fmt.Sprintf("api      1        %d", rows[0].Pid)) {
		t.Errorf("ps table:\n%s", table)
	}

	// logs -f worker follows: a restart of worker prints a new line,
	// and none of api's.
	oldWorker := rows[2].Pid
	var logs syncBuf
	follow := exec.Command(bin, "logs", "-f", "-n", "5", "worker")
	follow.Dir, follow.Stdout, follow.Stderr = dir, &logs, &logs
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = follow.Process.Kill(); _ = follow.Wait() })
	waitFor(t, "logs -f to print the worker's first line", func() bool {
		return strings.Contains(logs.String(), fmt.Sprintf("[worker] worker up %d noenv nofd3\n", oldWorker))
	})
	restartWorker := mustRun(t, bin, dir, "restart", "worker")
	newWorker := psJSON(t, bin, dir)[2].Pid
	// A service of one replica is named as its lines' prefix names it.
	if want := fmt.Sprintf("worker: pid %d replaced by %d, ready\nrestarted worker: 1 of 1 instances ready\n", oldWorker, newWorker); restartWorker != want {
		t.Errorf("restart worker printed %q, want %q", restartWorker, want)
	}
	waitFor(t, "logs -f to print the new worker's line", func() bool {
		return strings.Contains(logs.String(), fmt.Sprintf("[worker] worker up %d noenv nofd3\n", newWorker))
	})
	if strings.Contains("\n"+logs.String(), "\n[api") {
		t.Errorf("logs -f worker shows api's lines:\n%s", logs.String())
	}
	_ = follow.Process.Signal(os.Interrupt)
	if err := follow.Wait(); err != nil {
		t.Errorf("logs -f after Ctrl-C: %v", err)
	}

	// A rolling restart of api: some replica answers all along.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(r int) bool {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%s%d/", ports, r))
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	stop := make(chan struct{})
	done := make(chan [2]int)
	go func() {
		var rounds, dark int
		for {
			select {
			case <-stop:
				done <- [2]int{rounds, dark}
				return
			default:
			}
			rounds++
			if !get(1) && !get(2) {
				dark++
			}
		}
	}()
	restart := mustRun(t, bin, dir, "restart", "api")
	close(stop)
	counts := <-done
	if counts[1] > 0 {
		t.Errorf("%d of %d rounds found no api replica answering during gotask restart api", counts[1], counts[0])
	}
	after := psJSON(t, bin, dir)
	for i := range 2 {
		line := fmt.Sprintf("api.%d: pid %d replaced by %d, ready\n", i+1, rows[i].Pid, after[i].Pid)
		if !strings.Contains(restart, line) || after[i].Pid == rows[i].Pid || !gone(rows[i].Pid) {
			t.Errorf("restart api printed\n%s\nwant a line %q, and the old process gone", restart, line)
		}
	}
	if !strings.HasSuffix(restart, "restarted api: 2 of 2 instances ready\n") {
		t.Errorf("restart api: %q", restart)
	}

	// stop worker; up starts it again in the same supervisor.
	if out := mustRun(t, bin, dir, "stop", "worker"); out != "stopped worker (1 instance)\n" {
		t.Errorf("stop worker: %q", out)
	}
	if st := psJSON(t, bin, dir)[2]; st.State != "stopped" || st.Pid != 0 || !gone(newWorker) {
		t.Errorf("worker after stop: %+v (old pid %d alive: %v)", st, newWorker, !gone(newWorker))
	}
	if out := mustRun(t, bin, dir, "up"); !strings.Contains(out, "started every service in the running supervisor: 3 of 3 instances ready") {
		t.Errorf("up with worker stopped: %q", out)
	}
	if out := mustRun(t, bin, dir, "up", "-d"); !strings.Contains(out, "every service is already up") {
		t.Errorf("up -d with everything up: %q", out)
	}
	final := psJSON(t, bin, dir)
	if readPidFile(t, run) != supPid {
		t.Errorf("a second supervisor was started")
	}

	// logs -f follows until the supervisor ends, its last lines out.
	var tail syncBuf
	followAll := exec.Command(bin, "logs", "-f", "-n", "1")
	followAll.Dir, followAll.Stdout, followAll.Stderr = dir, &tail, &tail
	if err := followAll.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = followAll.Process.Kill() })
	followed := make(chan error, 1)
	go func() { followed <- followAll.Wait() }()
	// Its first line: it knows the supervisor by then.
	waitFor(t, "logs -f to print its first line", func() bool { return tail.String() != "" })

	// down: every process ends before it returns.
	if out := mustRun(t, bin, dir, "down"); out != "stopped 3 instances and the supervisor\n" {
		t.Errorf("down: %q", out)
	}
	select {
	case err := <-followed:
		if err != nil || !strings.Contains(tail.String(), "gotask up: 3 instances, 0 failed") {
			t.Errorf("logs -f as the supervisor ended: %v\n%s", err, tail.String())
		}
	case <-time.After(2 * time.Minute):
		t.Errorf("logs -f still follows 2 minutes after down")
	}
	for _, r := range final {
		if !gone(r.Pid) {
			t.Errorf("%s.%d (pid %d) still runs after down", r.Service, r.Replica, r.Pid)
		}
	}
	if !gone(supPid) {
		t.Errorf("the supervisor (pid %d) still runs after down", supPid)
	}
	if _, err := os.Lstat(filepath.Join(run, "control.sock")); err == nil {
		t.Errorf("the socket is left after down")
	}
	// The log stays readable.
	// A worker's line that looks like api's is still the worker's.
	if out := mustRun(t, bin, dir, "logs", "-n", "1000", "api"); !strings.Contains(out, "[api.1]") || strings.Contains(out, "[worker]") || strings.Contains(out, "forged") {
		t.Errorf("logs api after down:\n%s", out)
	}
}

func mustReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readPidFile(t *testing.T, run string) int {
	t.Helper()
	pid, _ := strconv.Atoi(strings.TrimSpace(mustReadFile(t, filepath.Join(run, "supervisor.pid"))))
	return pid
}

// TestUpDetachedFailure: when a service cannot come up, up -d says
// which, shows its last lines, and exits 1.
func TestUpDetachedFailure(t *testing.T) {
	bin := gotaskBinary(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tasks.toml"), `
[services.ok]
run = "exec sleep 600"

[services.broken]
run = "echo reading config; echo 'broken: no config file' >&2; exit 3"
restart = "no"
ready = { sh = "false" }
`)
	t.Cleanup(func() { svcRun(t, bin, dir, "down") })
	_, errOut, code := svcRun(t, bin, dir, "up", "-d")
	if code != 1 {
		t.Errorf("up -d with a broken service: exit %d, want 1", code)
	}
	for _, want := range []string{"service broken: broken failed before it was ready (exit 3)", "the last lines of broken:", "[broken] reading config", "[broken] broken: no config file", "runs on with the other services"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("up -d stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "[ok]") {
		t.Errorf("up -d shows the lines of a service that did not fail:\n%s", errOut)
	}
}

// TestUpForegroundServesControl: a foreground gotask up answers ps, a
// second gotask up asks it instead of starting another supervisor, and
// down ends it, exit 0, with its summary.
func TestUpForegroundServesControl(t *testing.T) {
	bin := gotaskBinary(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tasks.toml"), `
[services.one]
run = "exec sleep 600"

[services.two]
run = "exec sleep 600"
`)
	var out syncBuf
	up := exec.Command(bin, "up", "one")
	up.Dir, up.Stdout, up.Stderr = dir, &out, &out
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = up.Process.Kill(); _ = up.Wait() })
	waitFor(t, "gotask up to say one is ready", func() bool { return strings.Contains(out.String(), "1 of 1 instances ready") })
	rows := psJSON(t, bin, dir)
	if len(rows) != 2 || rows[0].State != "ready" || rows[1].State != "stopped" {
		t.Fatalf("ps: %+v", rows)
	}
	if got := mustRun(t, bin, dir, "up", "two"); !strings.Contains(got, "started two in the running supervisor") {
		t.Errorf("a second gotask up: %q", got)
	}
	if rows := psJSON(t, bin, dir); rows[1].State != "ready" {
		t.Errorf("two after the second up: %+v", rows[1])
	}
	// Stopping everything leaves up waiting for more, not ended.
	mustRun(t, bin, dir, "stop")
	if rows := psJSON(t, bin, dir); rows[0].State != "stopped" {
		t.Errorf("after stop: %+v", rows)
	}
	mustRun(t, bin, dir, "down")
	if err := up.Wait(); err != nil {
		t.Errorf("gotask up after down: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "gotask up: 2 instances, 0 failed") || strings.Contains(out.String(), "up -\n") {
		t.Errorf("gotask up's summary:\n%s", out.String())
	}
}

// TestServicesOtherUser: another user cannot use the control socket of
// a project it can read: the run directory is 0700 and the socket 0600.
func TestServicesOtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		sshtest.MissingPeer(t, "not root: the test runs gotask as another user")
	}
	bin := gotaskBinary(t)
	// A copy of gotask, and a project, that nobody can read.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "gotask")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "tasks.toml"), "[services.s]\nrun = \"exec sleep 600\"\n")
	t.Cleanup(func() { svcRun(t, bin, dir, "down") })
	mustRun(t, bin, dir, "up", "-d")
	cmd := exec.Command(other, "ps")
	cmd.Dir = dir
	nobody, err := user.Lookup("nobody")
	if err != nil {
		sshtest.MissingPeer(t, "no user nobody")
	}
	uid, _ := strconv.ParseUint(nobody.Uid, 10, 32)
	gid, _ := strconv.ParseUint(nobody.Gid, 10, 32)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	got, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(got), "permission denied") {
		t.Errorf("gotask ps as nobody: %v\n%s", err, got)
	}
	if strings.Contains(string(got), "SERVICE") {
		t.Errorf("nobody was shown the services:\n%s", got)
	}
}

// TestSupervisorKilled: a supervisor killed with SIGKILL leaves its
// socket behind; ps says what happened, and the next up -d replaces it
// with a supervisor of its own.
func TestSupervisorKilled(t *testing.T) {
	bin := gotaskBinary(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tasks.toml"), "[services.s]\nrun = \"exec sleep 600\"\n")
	t.Cleanup(func() { svcRun(t, bin, dir, "down") })
	mustRun(t, bin, dir, "up", "-d")
	run := filepath.Join(dir, ".gotask", "run")
	first := readPidFile(t, run)
	old := psJSON(t, bin, dir)[0].Pid
	t.Cleanup(func() { _ = syscall.Kill(old, syscall.SIGKILL) })
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the supervisor to end", func() bool { return gone(first) })
	_, errOut, code := svcRun(t, bin, dir, "ps")
	if want := "its last supervisor ended without stopping them (killed?); gotask up starts a new one"; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("ps after the supervisor was killed: exit %d, %q; want 1, %q", code, errOut, want)
	}
	mustRun(t, bin, dir, "up", "-d")
	if second := readPidFile(t, run); second == first || gone(second) {
		t.Errorf("the new supervisor: pid %d (the killed one was %d)", second, first)
	}
	if rows := psJSON(t, bin, dir); rows[0].State != "ready" || rows[0].Pid == old {
		t.Errorf("after a new up -d: %+v", rows)
	}
}

// TestConcurrentUpDetached: two gotask up -d at once make one
// supervisor, which runs the service once; both succeed.
func TestConcurrentUpDetached(t *testing.T) {
	bin := gotaskBinary(t)
	dir := t.TempDir()
	marker := fmt.Sprintf("1000.%d", os.Getpid()) // no other process sleeps that long
	writeFile(t, filepath.Join(dir, "tasks.toml"), "[services.s]\nrun = \"exec sleep "+marker+"\"\n")
	t.Cleanup(func() { svcRun(t, bin, dir, "down") })
	type result struct {
		out, errOut string
		code        int
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			out, errOut, code := svcRun(t, bin, dir, "up", "-d")
			results <- result{out, errOut, code}
		}()
	}
	for range 2 {
		if r := <-results; r.code != 0 {
			t.Errorf("one of two gotask up -d at once: exit %d\n%s%s", r.code, r.out, r.errOut)
		}
	}
	sleeps := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		// Before its exec, the instance is still sh -c 'exec sleep ...'.
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), marker) {
			sleeps++
		}
	}
	if sleeps != 1 {
		t.Errorf("%d processes of the service run, want 1", sleeps)
	}
	if rows := psJSON(t, bin, dir); len(rows) != 1 || rows[0].State != "ready" {
		t.Errorf("ps: %+v", rows)
	}
}

// TestUpDetachedLogRotates: the background supervisor's log is rotated
// at 10 MB, whole lines in each file, every file private.
func TestUpDetachedLogRotates(t *testing.T) {
	bin := gotaskBinary(t)
	dir := t.TempDir()
	// 120,000 lines of 100 bytes (with the prefix): 12 MB, then a last line.
	writeFile(t, filepath.Join(dir, "tasks.toml"), `
[services.chatty]
run = "yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901 | head -n 120000; echo last line; exec sleep 600"
`)
	t.Cleanup(func() { svcRun(t, bin, dir, "down") })
	mustRun(t, bin, dir, "up", "-d")
	logs := filepath.Join(dir, ".gotask", "logs")
	waitFor(t, "the last line in the log", func() bool {
		out, _, _ := svcRun(t, bin, dir, "logs", "-n", "1", "chatty")
		return out == "[chatty] last line\n"
	})
	for _, name := range []string{"up.log", "up.log.1"} {
		fi, err := os.Stat(filepath.Join(logs, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 10<<20 || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %d bytes, mode %v; want at most 10 MiB, 0600", name, fi.Size(), fi.Mode().Perm())
		}
		b := mustReadFile(t, filepath.Join(logs, name))
		if !strings.HasSuffix(b, "\n") || strings.Contains(b, "\n01234") {
			t.Errorf("%s does not hold whole prefixed lines only", name)
		}
	}
	if fi, err := os.Stat(filepath.Join(logs, "up.log.1")); err == nil && fi.Size() < 9<<20 {
		t.Errorf("up.log.1 has %d bytes: rotated well before 10 MiB", fi.Size())
	}
}
