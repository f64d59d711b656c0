package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hang bounds every wait of these tests: they wait on events (a line, a
// file, a state), never on time; this only stops a test that hangs.
const hang = 2 * time.Minute

// logBuf is a Config.Log that tests wait on.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// sh returns a Command func running line in dir, with $REPLICA set.
func sh(dir, line string, ready ReadyCheck) func(context.Context, int) (Command, error) {
	return func(_ context.Context, replica int) (Command, error) {
		env := append(os.Environ(), "REPLICA="+strconv.Itoa(replica))
		return Command{Line: line, Dir: dir, Env: env, Ready: ready}, nil
	}
}

// start makes a supervisor of specs and stops it when the test ends.
func start(t *testing.T, cfg Config) (*Supervisor, *logBuf) {
	t.Helper()
	log := &logBuf{}
	cfg.Log = log
	if cfg.ReadyInterval == 0 {
		cfg.ReadyInterval = 10 * time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hang)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("supervisor log:\n%s", log)
		}
	})
	return s, log
}

// until waits until cond holds, polling (the hang guard fails the test).
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", hang, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func statusOf(s *Supervisor, service string, replica int) Status {
	for _, st := range s.Status() {
		if st.Service == service && st.Replica == replica {
			return st
		}
	}
	return Status{}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && !bytes.HasPrefix(bytes.TrimSpace(b[i+1:]), []byte("Z"))
}

// TestCrashingServiceBacksOffAndFails: a service that keeps crashing is
// restarted with a doubling backoff, is failed after max_restarts, and
// a service beside it keeps its one process all along.
func TestCrashingServiceBacksOffAndFails(t *testing.T) {
	dir := t.TempDir()
	s, log := start(t, Config{Services: []Spec{
		{Name: "steady", Command: sh(dir, "echo $$ > steady.pid; exec sleep 300", ReadyCheck{})},
		{Name: "crash", Command: sh(dir, "echo run >> crash.runs; exit 3", ReadyCheck{}),
			Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxRestarts: 4},
	}})
	ctx := t.Context()
	if err := s.Start(ctx, "steady"); err != nil {
		t.Fatal(err)
	}
	steadyPid := statusOf(s, "steady", 1).Pid
	_ = s.Start(ctx, "crash") // ready at once, as it has no ready check
	until(t, "crash to fail", func() bool { return statusOf(s, "crash", 1).State == Failed })

	st := statusOf(s, "crash", 1)
	if st.Restarts != 4 || st.LastExit != "exit 3" || !strings.Contains(st.Error, "gave up after 4 restarts") {
		t.Errorf("crash status = %+v, want 4 restarts, exit 3, gave up", st)
	}
	runs, _ := os.ReadFile(filepath.Join(dir, "crash.runs"))
	if n := strings.Count(string(runs), "run"); n != 5 {
		t.Errorf("crash ran %d times, want 5 (1 + max_restarts)", n)
	}
	// The backoff doubles up to max_backoff.
	var waits []string
	for line := range strings.Lines(log.String()) {
		if _, w, ok := strings.Cut(line, "gotask: crash: exit 3; restarting in "); ok {
			waits = append(waits, strings.TrimSpace(w))
		}
	}
	if got := strings.Join(waits, " "); got != "5ms 10ms 20ms 20ms" {
		t.Errorf("backoffs = %q, want 5ms 10ms 20ms 20ms", got)
	}
	now := statusOf(s, "steady", 1)
	if now.Pid != steadyPid || now.Restarts != 0 || !alive(steadyPid) || now.State != Ready {
		t.Errorf("steady = %+v (pid was %d): want the same process, ready, no restarts", now, steadyPid)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	err := s.Wait()
	if err == nil || !strings.Contains(err.Error(), "service crash failed") {
		t.Errorf("Wait() = %v, want it to name the failed service", err)
	}
	if alive(steadyPid) {
		t.Errorf("steady's process %d outlived Stop", steadyPid)
	}
}

// TestReadinessGatesDependants: a dependant's process starts only after
// its dep's ready check has passed, seen in the order of lines in a
// file that both write.
func TestReadinessGatesDependants(t *testing.T) {
	dir := t.TempDir()
	s, _ := start(t, Config{Services: []Spec{
		{Name: "worker", Deps: []string{"api"}, Command: sh(dir, "echo worker-start >> order; exec sleep 300", ReadyCheck{})},
		{Name: "api", Command: sh(dir, "while [ ! -f go ]; do sleep 0.01; done; echo api-listening >> order; exec sleep 300",
			ReadyCheck{Sh: "grep -q api-listening order && echo checked >> order"})},
	}})
	started := make(chan error, 1)
	go func() { started <- s.Start(t.Context()) }()
	until(t, "api to run", func() bool { return statusOf(s, "api", 1).State == Running })
	// api runs and is not ready: the worker has not started, however
	// long we look.
	if st := statusOf(s, "worker", 1); st.Pid != 0 || st.State == Running {
		t.Fatalf("worker started before api was ready: %+v", st)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(hang):
		t.Fatal("Start did not return")
	}
	var got []byte
	until(t, "the worker's line", func() bool {
		got, _ = os.ReadFile(filepath.Join(dir, "order"))
		return bytes.Contains(got, []byte("worker-start\n"))
	})
	if want := "api-listening\nchecked\nworker-start\n"; string(got) != want {
		t.Errorf("order = %q, want %q", got, want)
	}
}

// TestUnknownDepAndCycle are refused by New.
func TestUnknownDepAndCycle(t *testing.T) {
	cmd := sh("", "true", ReadyCheck{})
	_, err := New(Config{Services: []Spec{{Name: "a", Deps: []string{"b"}, Command: cmd}}})
	if err == nil || !strings.Contains(err.Error(), `unknown service "b"`) {
		t.Errorf("unknown dep: %v", err)
	}
	_, err = New(Config{Services: []Spec{{Name: "a", Deps: []string{"b"}, Command: cmd}, {Name: "b", Deps: []string{"a"}, Command: cmd}}})
	if err == nil || !strings.Contains(err.Error(), "a -> b -> a") {
		t.Errorf("cycle: %v", err)
	}
}

// TestRecycleOnRSS: a process that grows past restart_when.rss is
// stopped gracefully and started again, counted as a recycle and not a
// crash (max_restarts is 1 and it is never failed).
func TestRecycleOnRSS(t *testing.T) {
	dir := t.TempDir()
	// The shell doubles a string to 64 MB, then waits.
	grow := `echo start >> starts; x=aaaaaaaaaaaaaaaa; i=0; while [ $i -lt 22 ]; do x="$x$x"; i=$((i+1)); done; echo grown >> starts; exec sleep 300`
	s, log := start(t, Config{LimitInterval: 10 * time.Millisecond, Services: []Spec{
		{Name: "leak", Command: sh(dir, `sh -c '`+grow+`'`, ReadyCheck{}), RecycleRSS: 16 << 20, MaxRestarts: 1},
	}})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := statusOf(s, "leak", 1).Pid
	until(t, "a recycle", func() bool {
		st := statusOf(s, "leak", 1)
		return st.Recycles >= 2 && st.Pid != 0
	})
	st := statusOf(s, "leak", 1)
	if st.State == Failed || st.Pid == first || st.Restarts < st.Recycles {
		t.Errorf("after recycles: %+v (first pid %d)", st, first)
	}
	if !strings.Contains(log.String(), "gotask: leak: recycling: rss ") || !strings.Contains(log.String(), "over restart_when.rss 16MB") {
		t.Errorf("the log does not say why it recycled:\n%s", log)
	}
	if alive(first) {
		t.Errorf("the recycled process %d is still there", first)
	}
}

// TestRecycleOnRSSWithoutCgroup: where gotask makes no cgroup (not
// root), the memory of the instance's whole process group counts: here
// a child of the instance's shell grows, not the shell.
func TestRecycleOnRSSWithoutCgroup(t *testing.T) {
	dir := t.TempDir()
	grow := `x=aaaaaaaaaaaaaaaa; i=0; while [ $i -lt 22 ]; do x="$x$x"; i=$((i+1)); done; exec sleep 300`
	s, log := start(t, Config{NoCgroup: true, LimitInterval: 10 * time.Millisecond, Services: []Spec{
		{Name: "leak", Command: sh(dir, `sh -c '`+grow+`' & wait`, ReadyCheck{}), RecycleRSS: 16 << 20, MaxRestarts: 1},
	}})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	until(t, "a recycle", func() bool { return statusOf(s, "leak", 1).Recycles >= 1 })
	if !strings.Contains(log.String(), "over restart_when.rss 16MB") {
		t.Errorf("the log does not say why it recycled:\n%s", log)
	}
}

// pidsOf reads the pid files a service's command wrote.
func pidsOf(t *testing.T, dir string, names ...string) map[string]int {
	t.Helper()
	pids := map[string]int{}
	for _, n := range names {
		var pid int
		until(t, n, func() bool {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
				return false
			}
			pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
			return err == nil
		})
		pids[n] = pid
	}
	return pids
}

// family starts a child in the background, a grandchild, and a setsid'd
// child that leaves the process group, each writing its pid.
const family = `sh -c 'sleep 300 & echo $! > grandchild.pid; wait' &
echo $! > child.pid
setsid sh -c 'echo $$ > setsid.pid; exec sleep 300' &
trap 'exit 0' TERM
wait`

// TestStopLeavesNoProcess: stopping a service kills the shell, its
// child, its grandchild and a setsid'd child that left the process
// group, through the instance's cgroup (where gotask can make one).
func TestStopLeavesNoProcess(t *testing.T) {
	if cgroupParent() == "" {
		t.Skip("no writable cgroup v2 here: see TestStopProcessGroupFallback")
	}
	dir := t.TempDir()
	s, _ := start(t, Config{Services: []Spec{{Name: "fam", Command: sh(dir, family, ReadyCheck{})}}})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	pids := pidsOf(t, dir, "child.pid", "grandchild.pid", "setsid.pid")
	pids["shell"] = statusOf(s, "fam", 1).Pid
	for n, pid := range pids {
		if !alive(pid) {
			t.Fatalf("%s %d is not running", n, pid)
		}
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	for n, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) outlived Stop", n, pid)
		}
	}
}

// TestStopProcessGroupFallback: without a cgroup, Stop still kills the
// whole process group (child and grandchild); a setsid'd child is out
// of the supervisor's reach then, as the README says.
func TestStopProcessGroupFallback(t *testing.T) {
	dir := t.TempDir()
	s, _ := start(t, Config{NoCgroup: true, Services: []Spec{{Name: "fam", Command: sh(dir, family, ReadyCheck{})}}})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	pids := pidsOf(t, dir, "child.pid", "grandchild.pid", "setsid.pid")
	t.Cleanup(func() { _ = syscall.Kill(pids["setsid.pid"], syscall.SIGKILL) })
	shell := statusOf(s, "fam", 1).Pid
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{shell, pids["child.pid"], pids["grandchild.pid"]} {
		if alive(pid) {
			t.Errorf("pid %d of the process group outlived Stop", pid)
		}
	}
}

// TestStopSignalThenKill: the stop signal goes to the whole group; a
// process that ignores it is killed after stop_grace.
func TestStopSignalThenKill(t *testing.T) {
	dir := t.TempDir()
	s, log := start(t, Config{Services: []Spec{
		{Name: "polite", StopSignal: syscall.SIGINT, Command: sh(dir, `trap 'echo got-int >> polite.log; exit 0' INT; echo $$ > polite.pid; while :; do sleep 0.05; done`, ReadyCheck{})},
		{Name: "stubborn", StopGrace: 50 * time.Millisecond, Command: sh(dir, `trap '' TERM; echo $$ > stubborn.pid; while :; do sleep 0.05; done`, ReadyCheck{})},
	}})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	pidsOf(t, dir, "polite.pid", "stubborn.pid")
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "polite.log")); string(b) != "got-int\n" {
		t.Errorf("polite got %q, want its stop signal INT", b)
	}
	if !strings.Contains(log.String(), "gotask: stubborn: stopped (signal KILL)") {
		t.Errorf("stubborn was not killed after its grace:\n%s", log)
	}
}

// serverEnv, when set, makes this test binary an HTTP server (see
// TestMain): the value is "shared-port own-port".
const serverEnv = "GOTASK_SERVICE_TEST_SERVER"

func TestMain(m *testing.M) {
	if v := os.Getenv(serverEnv); v != "" {
		serve(v)
		return
	}
	if dir := os.Getenv(supervisorEnv); dir != "" {
		superviseForever(dir)
		return
	}
	os.Exit(m.Run())
}

// serve answers "ok" on the two ports of spec until SIGTERM.
func serve(spec string) {
	ports := strings.Fields(spec)
	var lns []net.Listener
	for _, p := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		lns = append(lns, ln)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })}
	for _, ln := range lns {
		go srv.Serve(ln)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRollingRestartKeepsOneReady: while Restart replaces each of two
// replicas, a client asking each replica in turn, in a loop, is always
// answered by at least one of them.
func TestRollingRestartKeepsOneReady(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ports := []int{freePort(t), freePort(t)}
	cmd := func(_ context.Context, replica int) (Command, error) {
		p := ports[replica-1]
		return Command{
			Line:  `exec "$EXE"`,
			Env:   append(os.Environ(), "EXE="+exe, fmt.Sprintf("%s=%d", serverEnv, p)),
			Ready: ReadyCheck{HTTP: fmt.Sprintf("http://127.0.0.1:%d/", p)},
		}, nil
	}
	s, _ := start(t, Config{Services: []Spec{{Name: "api", Replicas: 2, Command: cmd}}})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := []int{statusOf(s, "api", 1).Pid, statusOf(s, "api", 2).Pid}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(port int) bool {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	stop := make(chan struct{})
	var rounds, dark int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			rounds++
			if !get(ports[0]) && !get(ports[1]) {
				dark++
			}
		}
	}()
	err = s.Restart(t.Context(), "api")
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	after := []int{statusOf(s, "api", 1).Pid, statusOf(s, "api", 2).Pid}
	if after[0] == before[0] || after[1] == before[1] {
		t.Fatalf("pids %v -> %v: not both replaced", before, after)
	}
	if dark > 0 {
		t.Errorf("%d of %d rounds found no replica answering during the rolling restart", dark, rounds)
	}
	for r := 1; r <= 2; r++ {
		if st := statusOf(s, "api", r); st.State != Ready || st.Restarts != 1 {
			t.Errorf("replica %d after restart: %+v", r, st)
		}
	}
}

// TestStartFailsWhenNeverReady: a service whose process ends before it
// is ready (restart = "no") makes Start fail and its dependant not start;
// an independent service still starts.
func TestStartFailsWhenNeverReady(t *testing.T) {
	dir := t.TempDir()
	s, _ := start(t, Config{Services: []Spec{
		{Name: "db", Restart: Never, Command: sh(dir, "exit 7", ReadyCheck{TCP: "127.0.0.1:1"})},
		{Name: "api", Deps: []string{"db"}, Command: sh(dir, "touch api-ran; exec sleep 300", ReadyCheck{})},
		{Name: "other", Command: sh(dir, "exec sleep 300", ReadyCheck{})},
	}})
	err := s.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "service db: db failed before it was ready (exit 7)") ||
		!strings.Contains(err.Error(), "service api: not started: db did not become ready") {
		t.Fatalf("Start = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "api-ran")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("api ran although db never became ready")
	}
	if st := statusOf(s, "other", 1); st.State != Ready {
		t.Errorf("other = %+v, want ready", st)
	}
}

// TestWatchRestarts: saving a file that the watch patterns take
// restarts the service; a file they do not take changes nothing.
func TestWatchRestarts(t *testing.T) {
	dir := t.TempDir()
	s, log := start(t, Config{Services: []Spec{{Name: "web", Watch: []string{"*.txt"}, WatchDir: dir,
		Command: sh(dir, "echo $$ >> pids; exec sleep 300", ReadyCheck{})}}})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	lines := func() int {
		b, _ := os.ReadFile(filepath.Join(dir, "pids"))
		return bytes.Count(b, []byte("\n"))
	}
	until(t, "the first process", func() bool { return lines() == 1 })
	first := statusOf(s, "web", 1).Pid
	if err := os.WriteFile(filepath.Join(dir, "notes.log"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "page.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	until(t, "a restart", func() bool { return lines() == 2 && statusOf(s, "web", 1).State == Ready })
	if !strings.Contains(log.String(), "gotask: web: watch: page.txt changed; restarting") {
		t.Errorf("the log does not say what changed:\n%s", log)
	}
	if st := statusOf(s, "web", 1); st.Pid == first || st.Restarts != 1 || alive(first) {
		t.Errorf("after the change: %+v (first pid %d, alive %v)", st, first, alive(first))
	}
}

// TestNice: nice runs the instance's processes at that niceness (over
// the supervisor's own), from their first instruction.
func TestNice(t *testing.T) {
	dir := t.TempDir()
	self, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.Nice > 19-3 {
		t.Skipf("this test runs at nice %d already", self.Nice)
	}
	s, _ := start(t, Config{Services: []Spec{{Name: "low", Nice: 3, Command: sh(dir, "sleep 300 & echo $! > child.pid; wait", ReadyCheck{})}}})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	child := pidsOf(t, dir, "child.pid")["child.pid"]
	for _, pid := range []int{statusOf(s, "low", 1).Pid, child} {
		st, err := ReadProc(pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.Nice != self.Nice+3 {
			t.Errorf("pid %d runs at nice %d, want %d", pid, st.Nice, self.Nice+3)
		}
	}
}

// supervisorEnv, when set, makes this test binary a supervisor of one
// service writing its pid into the directory named, until it is killed.
const supervisorEnv = "GOTASK_SERVICE_TEST_SUPERVISOR"

func superviseForever(dir string) {
	s, err := New(Config{Services: []Spec{{Name: "orphan", Command: sh(dir, "echo $$ > orphan.pid; exec sleep 300", ReadyCheck{})}}})
	if err == nil {
		err = s.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	select {}
}

// TestOrphansOfAKilledSupervisorAreReaped: the instances of a
// supervisor killed with SIGKILL (which it cannot handle) are left
// running in their cgroups; the next supervisor made on this machine
// kills them.
func TestOrphansOfAKilledSupervisorAreReaped(t *testing.T) {
	if !Cgroups() {
		t.Skip("no writable cgroup v2 here: a killed supervisor's instances are not found again")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sup := exec.Command(exe)
	sup.Env = append(os.Environ(), supervisorEnv+"="+dir)
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	orphan := pidsOf(t, dir, "orphan.pid")["orphan.pid"]
	t.Cleanup(func() { _ = syscall.Kill(orphan, syscall.SIGKILL) })
	if err := sup.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = sup.Wait()
	if !alive(orphan) {
		t.Fatalf("the instance %d died with its supervisor: nothing to reap", orphan)
	}
	if _, err := New(Config{}); err != nil {
		t.Fatal(err)
	}
	until(t, "the orphan to be killed", func() bool { return !alive(orphan) })
}

// TestOneShotIsReady: a service without a ready check whose process
// ends at once (restart = "no", exit 0) was ready, however fast it
// ended: Start does not report it as never ready.
func TestOneShotIsReady(t *testing.T) {
	for i := range 20 {
		s, _ := start(t, Config{Services: []Spec{{Name: fmt.Sprint("once", i), Restart: Never, Command: sh("", "exit 0", ReadyCheck{})}}})
		if err := s.Start(t.Context()); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}
