package service

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
)

// procController is a Controller over real processes (sleep), for the
// control socket's tests: what the socket does with a Supervisor's
// answers, apart from how the Supervisor gets them. Restart replaces
// each instance's process in turn, waiting for a go-ahead per instance
// when step is set.
type procController struct {
	t *testing.T

	mu       sync.Mutex
	services []string
	replicas int
	procs    map[instanceKey]*exec.Cmd
	states   map[instanceKey]State
	calls    []string
	step     chan struct{} // nil: restart without waiting
	fail     error         // returned by every call but Status
}

func newProcController(t *testing.T, replicas int, services ...string) *procController {
	c := &procController{t: t, services: services, replicas: replicas, procs: map[instanceKey]*exec.Cmd{}, states: map[instanceKey]State{}}
	for _, s := range services {
		for r := 1; r <= replicas; r++ {
			c.startLocked(instanceKey{service: s, replica: r})
		}
	}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	})
	return c
}

func (c *procController) startLocked(k instanceKey) {
	p := exec.Command("sleep", "600")
	if err := p.Start(); err != nil {
		c.t.Error(err)
		return
	}
	c.procs[k] = p
	c.states[k] = Ready
}

func (c *procController) stopLocked(k instanceKey) {
	if p := c.procs[k]; p != nil {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	delete(c.procs, k)
	c.states[k] = Stopped
}

func (c *procController) Status() []Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Status
	for _, s := range c.services {
		for r := 1; r <= c.replicas; r++ {
			k := instanceKey{service: s, replica: r}
			st := Status{Service: s, Replica: r, State: c.states[k]}
			if p := c.procs[k]; p != nil {
				st.Pid = p.Process.Pid
			}
			out = append(out, st)
		}
	}
	return out
}

func (c *procController) record(op string, names []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, op+" "+strings.Join(names, ","))
	return c.fail
}

func (c *procController) each(names []string, f func(k instanceKey)) {
	for _, s := range c.services {
		if len(names) > 0 && !slices.Contains(names, s) {
			continue
		}
		for r := 1; r <= c.replicas; r++ {
			f(instanceKey{service: s, replica: r})
		}
	}
}

func (c *procController) Start(_ context.Context, names ...string) error {
	if err := c.record("start", names); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.each(names, func(k instanceKey) {
		if c.procs[k] == nil {
			c.startLocked(k)
		}
	})
	return nil
}

func (c *procController) Stop(_ context.Context, names ...string) error {
	if err := c.record("stop", names); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.each(names, c.stopLocked)
	return nil
}

func (c *procController) Restart(ctx context.Context, names ...string) error {
	if err := c.record("restart", names); err != nil {
		return err
	}
	var keys []instanceKey
	c.each(names, func(k instanceKey) { keys = append(keys, k) })
	for _, k := range keys {
		if c.step != nil {
			select {
			case <-c.step:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		c.mu.Lock()
		c.stopLocked(k)
		c.startLocked(k)
		c.mu.Unlock()
	}
	return nil
}

// serveControl claims dir and serves ctrl on it until the test ends.
func serveControl(t *testing.T, dir string, ctrl Controller, down func()) *Control {
	t.Helper()
	c, err := Claim(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := &Server{Controller: ctrl, Down: down}
	go func() { done <- srv.Serve(ctx, c.Listener()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		c.Close()
	})
	return c
}

func runDir(t *testing.T) string { return filepath.Join(t.TempDir(), ".gotask", "run") }

func TestControlOperations(t *testing.T) {
	dir := runDir(t)
	ctrl := newProcController(t, 2, "api", "worker")
	serveControl(t, dir, ctrl, nil)
	cl := &Client{Dir: dir}
	ctx := t.Context()

	sts, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 4 || sts[0].Service != "api" || sts[0].Replica != 1 || sts[3].Service != "worker" || sts[3].Replica != 2 {
		t.Fatalf("Status = %+v, want api.1 api.2 worker.1 worker.2", sts)
	}
	for _, st := range sts {
		if st.Pid == 0 || st.State != Ready {
			t.Errorf("%s.%d: pid %d, state %s; want a process, ready", st.Service, st.Replica, st.Pid, st.State)
		}
	}

	sts, err = cl.Stop(ctx, "worker")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		stopped := st.Service == "worker"
		if (st.State == Stopped) != stopped || (st.Pid == 0) != stopped {
			t.Errorf("after stop worker: %s.%d is %s (pid %d)", st.Service, st.Replica, st.State, st.Pid)
		}
	}
	if _, err := cl.Start(ctx, "worker"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	ctrl.mu.Lock()
	calls := slices.Clone(ctrl.calls)
	ctrl.mu.Unlock()
	if want := []string{"stop worker", "start worker", "stop "}; !slices.Equal(calls, want) {
		t.Errorf("the controller got %q, want %q", calls, want)
	}

	// An error of the controller reaches the client as it is.
	ctrl.mu.Lock()
	ctrl.fail = errors.New(`unknown service "wrker"; did you mean "worker"?`)
	ctrl.mu.Unlock()
	if _, err := cl.Start(ctx, "wrker"); err == nil || err.Error() != `unknown service "wrker"; did you mean "worker"?` {
		t.Errorf("Start(wrker) = %v, want the controller's error", err)
	}
}

// TestControlSocketIsPrivate: the socket is mode 0600 in a 0700
// directory, which is made private again if it was opened up, and the
// pid file names the supervisor.
func TestControlSocketIsPrivate(t *testing.T) {
	dir := runDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	serveControl(t, dir, newProcController(t, 1, "api"), nil)
	for name, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, SocketName): 0o600 | os.ModeSocket} {
		fi, err := os.Lstat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
		}
	}
	if pid := readPid(dir); pid != os.Getpid() {
		t.Errorf("pid file says %d, want %d", pid, os.Getpid())
	}
}

// TestOneSupervisorPerProject: a second claim on a project is refused,
// naming the supervisor's pid, until the first gives it up.
func TestOneSupervisorPerProject(t *testing.T) {
	dir := runDir(t)
	first, err := Claim(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Claim(dir)
	var running *RunningError
	if !errors.As(err, &running) || running.Pid != os.Getpid() {
		t.Fatalf("second Claim: %v, want a RunningError with pid %d", err, os.Getpid())
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := Claim(dir)
	if err != nil {
		t.Fatalf("Claim after the first was closed: %v", err)
	}
	second.Close()
}

// helperEnv makes the test binary run TestHelperProcess as a helper:
// "claim DIR" claims DIR, says "claimed" and waits to be killed;
// "client DIR" asks DIR's supervisor for its statuses and prints the
// outcome; "raw DIR" does the same without Client; "down DIR" serves DIR until a down request, then takes a
// while to end (writing DIR/../ended just before it does).
const helperEnv = "GOTASK_SERVICE_TEST_HELPER"

func TestHelperProcess(t *testing.T) {
	mode, dir, ok := strings.Cut(os.Getenv(helperEnv), " ")
	if !ok {
		t.Skip("a helper process for other tests")
	}
	switch mode {
	case "claim":
		if _, err := Claim(dir); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("claimed")
		time.Sleep(time.Hour)
	case "client":
		sts, err := (&Client{Dir: dir}).Status(context.Background())
		fmt.Printf("statuses %d, error: %v\n", len(sts), err)
		os.Exit(0)
	case "raw":
		// A client that skips Client's own check of the server.
		conn, err := net.Dial("unix", filepath.Join(dir, SocketName))
		if err != nil {
			fmt.Printf("statuses 0, error: %v\n", err)
			os.Exit(0)
		}
		fmt.Fprintln(conn, `{"op":"status"}`)
		answer, _ := io.ReadAll(conn)
		fmt.Printf("answer: %s", answer)
		os.Exit(0)
	case "down":
		c, err := Claim(dir)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		ctx, cancel := context.WithCancel(context.Background())
		srv := &Server{Controller: newProcController(t, 1, "api"), Down: cancel}
		fmt.Println("claimed")
		if err := srv.Serve(ctx, c.Listener()); err != nil {
			fmt.Println(err)
		}
		c.Close()
		// Ending takes a while; the client waits for it.
		time.Sleep(500 * time.Millisecond)
		_ = os.WriteFile(filepath.Join(filepath.Dir(dir), "ended"), nil, 0o600)
		os.Exit(0)
	}
	os.Exit(2)
}

// helper starts the test binary as a helper process and waits for its
// first line.
func helper(t *testing.T, mode, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode+" "+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper %s: %v", mode, err)
	}
	return cmd, strings.TrimSpace(line)
}

// TestStaleSocketReplaced: a supervisor killed with SIGKILL leaves its
// socket behind; clients take it for none running, and the next
// supervisor claims the project and replaces the socket.
func TestStaleSocketReplaced(t *testing.T) {
	dir := runDir(t)
	cmd, line := helper(t, "claim", dir)
	if line != "claimed" {
		t.Fatalf("helper: %s", line)
	}
	if _, err := Claim(dir); !errors.As(err, new(*RunningError)) {
		t.Fatalf("Claim while the helper holds it: %v", err)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if _, err := os.Lstat(filepath.Join(dir, SocketName)); err != nil {
		t.Fatalf("the killed supervisor's socket should still be there: %v", err)
	}
	if _, err := (&Client{Dir: dir}).Status(t.Context()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Status with a stale socket: %v, want ErrNotRunning", err)
	}
	serveControl(t, dir, newProcController(t, 1, "api"), nil)
	if _, err := (&Client{Dir: dir}).Status(t.Context()); err != nil {
		t.Fatalf("Status after the socket was replaced: %v", err)
	}
}

// TestNotRunning: no run directory at all, or one with nothing in it.
func TestNotRunning(t *testing.T) {
	dir := runDir(t)
	if _, err := (&Client{Dir: dir}).Status(t.Context()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Status with no run directory: %v, want ErrNotRunning", err)
	}
	c, err := Claim(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := (&Client{Dir: dir}).Status(t.Context()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Status after the supervisor closed: %v, want ErrNotRunning", err)
	}
}

// TestDeepProjectPath: a project 200 bytes deep, whose socket path is
// longer than a socket address may be, is served and reached all the
// same, with its socket in its own run directory.
func TestDeepProjectPath(t *testing.T) {
	deep := t.TempDir()
	for len(deep) < 200 {
		deep = filepath.Join(deep, "a-rather-long-directory-name")
	}
	dir := filepath.Join(deep, ".gotask", "run")
	if n := len(filepath.Join(dir, SocketName)); n <= 108 {
		t.Fatalf("the socket path is only %d bytes", n)
	}
	serveControl(t, dir, newProcController(t, 1, "api"), nil)
	fi, err := os.Lstat(filepath.Join(dir, SocketName))
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("no socket in the deep run directory: %v", err)
	}
	sts, err := (&Client{Dir: dir}).Status(t.Context())
	if err != nil || len(sts) != 1 {
		t.Fatalf("Status = %+v, %v", sts, err)
	}
}

// TestRestartProgress: a rolling restart reports each instance as its
// process is replaced, naming the old and new pids, in the order the
// controller replaces them, before the restart as a whole is done.
func TestRestartProgress(t *testing.T) {
	dir := runDir(t)
	ctrl := newProcController(t, 2, "api", "worker")
	ctrl.step = make(chan struct{})
	serveControl(t, dir, ctrl, nil)
	before, err := (&Client{Dir: dir}).Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	progress := make(chan Progress, 10)
	done := make(chan error, 1)
	go func() {
		_, err := (&Client{Dir: dir}).Restart(t.Context(), func(p Progress) { progress <- p }, "api")
		done <- err
	}()
	guard := time.After(2 * time.Minute)
	for i, want := range before[:2] {
		ctrl.step <- struct{}{}
		select {
		case p := <-progress:
			if p.Service != want.Service || p.Replica != want.Replica || p.OldPid != want.Pid || p.Pid == want.Pid || p.Pid == 0 || p.State != Ready {
				t.Errorf("progress %d: %+v, want %s.%d replaced (old pid %d), ready", i, p, want.Service, want.Replica, want.Pid)
			}
			if s := p.String(); !strings.Contains(s, fmt.Sprintf("%s.%d: pid %d replaced by %d, ready", want.Service, want.Replica, want.Pid, p.Pid)) {
				t.Errorf("progress line %q", s)
			}
		case err := <-done:
			t.Fatalf("restart ended (%v) before instance %d was reported", err, i+1)
		case <-guard:
			t.Fatal("no progress in 2 minutes")
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after, err := (&Client{Dir: dir}).Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i < 4; i++ {
		if after[i].Pid != before[i].Pid {
			t.Errorf("worker.%d was restarted too", after[i].Replica)
		}
	}
}

// TestDownWaitsForTheSupervisor: down stops the services, and returns
// only once the supervisor's process has ended.
func TestDownWaitsForTheSupervisor(t *testing.T) {
	dir := runDir(t)
	cmd, line := helper(t, "down", dir)
	if line != "claimed" {
		t.Fatalf("helper: %s", line)
	}
	sts, err := (&Client{Dir: dir}).Down(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].State != Stopped || sts[0].Pid != 0 {
		t.Errorf("statuses after down: %+v, want api.1 stopped", sts)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "ended")); err != nil {
		t.Errorf("Down returned before the supervisor ended: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the supervisor: %v", err)
	}
}

// TestOtherUserRefused: another user cannot reach the control socket
// through its directory (0700), nor, if the directory and the socket
// are opened to everyone, be served: the supervisor checks who
// connected (SO_PEERCRED) and refuses them.
func TestOtherUserRefused(t *testing.T) {
	if os.Getuid() != 0 {
		sshtest.MissingPeer(t, "not root: the test runs a client as another user")
	}
	other, err := user.Lookup("nobody")
	if err != nil {
		sshtest.MissingPeer(t, "no user nobody")
	}
	uid, _ := strconv.Atoi(other.Uid)
	gid, _ := strconv.Atoi(other.Gid)
	// The test binary, where nobody can run it.
	bin := filepath.Join(t.TempDir(), "service.test")
	copyFile(t, os.Args[0], bin, 0o755)
	dir := runDir(t)
	serveControl(t, dir, newProcController(t, 1, "api"), nil)
	asOther := func(mode string) string {
		t.Helper()
		cmd := exec.Command(bin, "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), helperEnv+"="+mode+" "+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client as nobody: %v\n%s", err, out)
		}
		return string(out)
	}
	openUp(t, filepath.Dir(bin), 0o755)
	openUp(t, filepath.Dir(dir), 0o755) // all but the run directory
	if out := asOther("raw"); !strings.Contains(out, "permission denied") {
		t.Errorf("another user through the 0700 directory: %q, want permission denied", out)
	}
	openUp(t, dir, 0o755)
	if err := os.Chmod(filepath.Join(dir, SocketName), 0o666); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("refused: this supervisor serves only user %d, and you are user %d", os.Getuid(), uid)
	if out := asOther("raw"); !strings.Contains(out, `answer: {"error":"`+want+`"}`) || strings.Contains(out, "statuses") {
		t.Errorf("another user with the socket opened up: %q, want %q", out, want)
	}
}

// openUp makes dir and each of its parents up to / searchable by all
// (dir itself mode perm), as a careless umask would.
func openUp(t *testing.T, dir string, perm os.FileMode) {
	t.Helper()
	if err := os.Chmod(dir, perm); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(dir); d != "/"; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func copyFile(t *testing.T, from, to string, perm os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestClientChecksTheServersUser: a client talks only to a supervisor
// of its own user, so that a socket planted by someone else cannot
// collect its requests or feed it statuses.
func TestClientChecksTheServersUser(t *testing.T) {
	if os.Getuid() != 0 {
		sshtest.MissingPeer(t, "not root: the test listens as another user")
	}
	other, err := user.Lookup("nobody")
	if err != nil {
		sshtest.MissingPeer(t, "no user nobody")
	}
	uid, _ := strconv.Atoi(other.Uid)
	gid, _ := strconv.Atoi(other.Gid)
	bin := filepath.Join(t.TempDir(), "service.test")
	copyFile(t, os.Args[0], bin, 0o755)
	openUp(t, filepath.Dir(bin), 0o755)
	// A run directory of nobody's, where nobody listens.
	dir := runDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	openUp(t, dir, 0o755)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=claim "+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "claimed\n" {
		t.Fatalf("helper as nobody: %q", line)
	}
	_, err = (&Client{Dir: dir}).Status(t.Context())
	want := fmt.Sprintf("its supervisor runs as user %d, not as you (%d)", uid, os.Getuid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Status of nobody's supervisor: %v, want %q", err, want)
	}
}
