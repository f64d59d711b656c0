package cli_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/gotask/gotask/internal/sshtest"
)

// The sudo tests run the real gotask binary as an unprivileged user whose
// sudo always asks for a password (no NOPASSWD, timestamp_timeout=0), so
// every sudo command meets the real prompt. .ci/run creates that user and
// sets these variables; run as root to use them locally:
//
//	GOTASK_TEST_SUDO_USER=gotask-sudo GOTASK_TEST_SUDO_PASSWORD=gotask-test-pw \
//		go test -race -run Sudo ./cli/
const (
	sudoUserEnv     = "GOTASK_TEST_SUDO_USER"
	sudoPasswordEnv = "GOTASK_TEST_SUDO_PASSWORD"
)

// runTimeout bounds every run of gotask: a run that takes longer hangs.
const runTimeout = hangGuard

// noncePrompt starts the prompt gotask tells sudo to print.
const noncePrompt = "[sudo] gotask password nonce="

func TestSudo(t *testing.T) {
	e := newSudoEnv(t)

	t.Run("renice with each kind of stdin", func(t *testing.T) {
		t.Parallel()
		for _, in := range []stdinKind{stdinPipe, stdinDevNull, stdinClosed} {
			t.Run(string(in), func(t *testing.T) {
				t.Parallel()
				pid := e.sleeper(t)
				r := e.run(t, run{password: e.password, stdin: in, args: renice(pid, -5)})
				t.Logf("succeeded in %v", r.elapsed)
				r.wantCode(t, 0)
				if got := niceness(t, pid); got != -5 {
					t.Errorf("niceness of %d = %d, want -5\n%s", pid, got, r)
				}
				e.noPassword(t, r.stdout, r.stderr)
			})
		}
	})

	t.Run("renice on a terminal", func(t *testing.T) {
		t.Parallel()
		pid := e.sleeper(t)
		out, code := e.runPty(t, e.password, renice(pid, -5), nil)
		if code != 0 {
			t.Fatalf("exit status %d, want 0\n%s", code, out)
		}
		if got := niceness(t, pid); got != -5 {
			t.Errorf("niceness of %d = %d, want -5\n%s", pid, got, out)
		}
		e.noPassword(t, out)
		noExchange(t, out) // sudo's prompt, the nonce echoed
	})

	t.Run("password typed at gotask's terminal prompt", func(t *testing.T) {
		t.Parallel()
		pid := e.sleeper(t)
		out, code := e.runPty(t, "", renice(pid, -5), func(ctx context.Context, p *transcript, tty io.Writer) {
			p.waitFor(t, ctx, "[gotask] sudo password: ")
			if _, err := io.WriteString(tty, e.password+"\n"); err != nil {
				t.Errorf("typing the password: %v", err)
			}
		})
		if code != 0 {
			t.Fatalf("exit status %d, want 0\n%s", code, out)
		}
		if got := niceness(t, pid); got != -5 {
			t.Errorf("niceness of %d = %d, want -5\n%s", pid, got, out)
		}
		e.noPassword(t, out) // echo was off while it was typed
	})

	t.Run("piped input reaches the command, not sudo", func(t *testing.T) {
		t.Parallel()
		r := e.run(t, run{password: e.password, stdin: stdinPipe, args: []string{"readline"}})
		r.wantCode(t, 0)
		if r.stdout != "data\n" {
			t.Errorf("stdout = %q, want the piped line %q\n%s", r.stdout, "data\n", r)
		}
	})

	t.Run("piped input reaches a command sudo runs without a password", func(t *testing.T) {
		t.Parallel()
		// root's sudo never prompts: the input, held back for a prompt,
		// must still reach the command.
		r := e.run(t, run{asRoot: true, stdin: stdinPipe, args: []string{"readline"}})
		t.Logf("succeeded in %v", r.elapsed)
		r.wantCode(t, 0)
		if r.stdout != "data\n" {
			t.Errorf("stdout = %q, want the piped line %q\n%s", r.stdout, "data\n", r)
		}
		if strings.Contains(r.stderr, noncePrompt) {
			t.Errorf("sudo prompted root:\n%s", r)
		}
	})

	t.Run("password not in commands' environment", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"secretenv", "env"} {
			r := e.run(t, run{password: e.password, args: []string{name}})
			r.wantCode(t, 0)
			if name == "secretenv" && r.stdout != "0\n" {
				t.Errorf("secretenv: %q entries of GOTASK_SUDO_PASSWORD under sudo, want 0\n%s", r.stdout, r)
			}
			if strings.Contains(r.stdout, "GOTASK_SUDO_PASSWORD=") {
				t.Errorf("%s: the command inherited GOTASK_SUDO_PASSWORD:\n%s", name, r)
			}
			e.noPassword(t, r.stdout, r.stderr)
		}
	})

	t.Run("password printed back is masked", func(t *testing.T) {
		t.Parallel()
		r := e.run(t, run{password: e.password, args: []string{"echo", "--word", e.password}})
		r.wantCode(t, 0)
		if r.stdout != "said ****\n" {
			t.Errorf("stdout = %q, want %q", r.stdout, "said ****\n")
		}
		e.noPassword(t, r.stdout, r.stderr)
	})

	t.Run("wrong password fails fast", func(t *testing.T) {
		t.Parallel()
		pid := e.sleeper(t)
		r := e.run(t, run{password: "not-" + e.password, args: renice(pid, -5)})
		// sudo itself waits about 2 s (PAM's fail delay) before asking
		// again; gotask stops at that second prompt rather than answer on
		// and on, which the message below says.
		t.Logf("failed in %v", r.elapsed)
		r.wantCode(t, 1)
		const msg = `task "renice": sudo: wrong password;`
		if !strings.Contains(r.stderr, msg) {
			t.Errorf("stderr does not say %q:\n%s", msg, r)
		}
		if n := strings.Count(r.stderr, `"renice"`); n != 1 {
			t.Errorf("stderr names the task %d times, want once:\n%s", n, r)
		}
		// LC_ALL=C: sudo says this once per refused answer.
		if n := strings.Count(r.stderr, "Sorry, try again."); n > 1 {
			t.Errorf("sudo refused %d answers: gotask answered after the first refusal\n%s", n, r)
		}
		if n := strings.Count(r.stdout+r.stderr, noncePrompt); n > 2 {
			t.Errorf("sudo prompted %d times: gotask answered after the first refusal\n%s", n, r)
		}
		if got, was := niceness(t, pid), inherited(t); got != was {
			t.Errorf("niceness of %d = %d after a refused password, want %d, unchanged", pid, got, was)
		}
	})

	t.Run("password command", func(t *testing.T) {
		t.Parallel()
		pid := e.sleeper(t)
		r := e.run(t, run{args: append([]string{"--sudo-password-cmd", e.script(t, "pw.sh", "printf '%s\\n' "+strconv.Quote(e.password))}, renice(pid, -5)...)})
		r.wantCode(t, 0)
		if got := niceness(t, pid); got != -5 {
			t.Errorf("niceness of %d = %d, want -5\n%s", pid, got, r)
		}
		e.noPassword(t, r.stdout, r.stderr)
	})

	t.Run("failing password command", func(t *testing.T) {
		t.Parallel()
		cmd := e.script(t, "locked.sh", "echo 'vault is locked' >&2; exit 3")
		r := e.run(t, run{args: []string{"--sudo-password-cmd", cmd, "rootid"}})
		r.wantNonZero(t)
		for _, want := range []string{`password command "` + cmd + `" failed`, "vault is locked"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, r)
			}
		}
	})

	t.Run("no password and no terminal", func(t *testing.T) {
		t.Parallel()
		r := e.run(t, run{args: []string{"rootid"}})
		r.wantNonZero(t)
		const msg = `task "rootid": sudo asked for a password and none is known: `
		if !strings.Contains(r.stderr, msg) || strings.Count(r.stderr, `"rootid"`) != 1 {
			t.Errorf("stderr does not say %q, naming the task once:\n%s", msg, r)
		}
		for _, want := range []string{"GOTASK_SUDO_PASSWORD", "--sudo-password-cmd", "--prompt-for-sudo-password"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr does not name %s as a way to give the password:\n%s", want, r)
			}
		}
	})

	t.Run("sudo to another user", func(t *testing.T) {
		t.Parallel()
		r := e.run(t, run{password: e.password, args: []string{"whoami"}})
		r.wantCode(t, 0)
		if r.stdout != "nobody\n" {
			t.Errorf("stdout = %q, want %q\n%s", r.stdout, "nobody\n", r)
		}
	})

	t.Run("nonce prompt not shown", func(t *testing.T) {
		t.Parallel()
		r := e.run(t, run{password: e.password, args: []string{"rootid"}})
		r.wantCode(t, 0)
		if r.stdout != "0\n" {
			t.Errorf("stdout = %q, want %q: the exchange with sudo shows\n%s", r.stdout, "0\n", r)
		}
		if strings.Contains(r.stdout+r.stderr, noncePrompt) || strings.Contains(r.stdout+r.stderr, "[gotask sudo") {
			t.Errorf("the output shows sudo's prompt:\n%s", r)
		}
	})
}

// sudoEnv is what the sudo tests share: the gotask binary and tasks file,
// in a directory the sudo user can read, and that user.
type sudoEnv struct {
	dir, bin, tasks string
	home            string
	uid, gid        uint32
	password        string
}

// newSudoEnv finds the sudo user and builds gotask, or skips the test
// (fails it when GOTASK_REQUIRE_REAL_PEERS=1) when the machine lacks them.
func newSudoEnv(t *testing.T) *sudoEnv {
	t.Helper()
	name, password := os.Getenv(sudoUserEnv), os.Getenv(sudoPasswordEnv)
	if name == "" || password == "" {
		missingSudo(t, sudoUserEnv+" and "+sudoPasswordEnv+" are not set")
	}
	_, err := user.Lookup(name)
	if err != nil {
		missingSudo(t, "the sudo test user "+name+" does not exist: "+err.Error())
	}
	if os.Geteuid() != 0 {
		missingSudo(t, "the tests are not running as root, so they cannot run commands as "+name)
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		missingSudo(t, "sudo is not installed")
	}

	// t.TempDir's directories are private to root; the sudo user must
	// read the binary and tasks file.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e := &sudoEnv{
		dir:      dir,
		bin:      filepath.Join(dir, "gotask"),
		tasks:    filepath.Join(dir, "tasks.toml"),
		password: password,
	}
	if err := e.lookup(name); err != nil {
		t.Fatal(err)
	}
	build := exec.CommandContext(t.Context(), "go", "build", "-o", e.bin, "github.com/gotask/gotask/cmd/gotask")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	toml, err := os.ReadFile(filepath.Join("testdata", "sudo", "tasks.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.tasks, toml, 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// lookup fills in the home, uid and gid of the user called name.
func (e *sudoEnv) lookup(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	e.home, e.uid, e.gid = u.HomeDir, uint32(uid), uint32(gid)
	return nil
}

// missingSudo skips the test with the reason, or fails it when
// GOTASK_REQUIRE_REAL_PEERS=1 says the real sudo set-up must be there.
func missingSudo(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv(sshtest.RequireRealPeersEnv) == "1" {
		t.Fatalf("%s, and %s=1 requires the sudo tests to run", reason, sshtest.RequireRealPeersEnv)
	}
	t.Skipf("%s; run as root with %s and %s naming a user whose sudo asks for that password (.ci/run sets one up)", reason, sudoUserEnv, sudoPasswordEnv)
}

// credential makes a command run as the sudo user.
func (e *sudoEnv) credential() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: e.uid, Gid: e.gid}}
}

// environ is the whole environment gotask gets: nothing of the test's own
// (which holds the password in GOTASK_TEST_SUDO_PASSWORD), plus
// GOTASK_SUDO_PASSWORD when password is not empty.
func (e *sudoEnv) environ(password string) []string {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + e.home, "LC_ALL=C"}
	if password != "" {
		env = append(env, "GOTASK_SUDO_PASSWORD="+password)
	}
	return env
}

// script writes an executable shell script the sudo user can run and
// returns its path.
func (e *sudoEnv) script(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// noPassword fails the test if any of outputs shows the password.
func (e *sudoEnv) noPassword(t *testing.T, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		if strings.Contains(out, e.password) {
			t.Errorf("the output shows the password:\n%s", out)
		}
	}
}

// sleeper starts a process of the sudo user that lives as long as the test
// and returns its pid.
func (e *sudoEnv) sleeper(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = e.credential()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// It starts with the niceness the tests run at (0, or 10 under
	// `nice go test`), which must differ from the -5 the tests set.
	if got, was := niceness(t, cmd.Process.Pid), inherited(t); got != was || got == -5 {
		t.Fatalf("a new process has niceness %d; want %d, the tests' own, and not -5", got, was)
	}
	return cmd.Process.Pid
}

// inherited is the niceness of the test process, which the processes it
// starts inherit.
func inherited(t *testing.T) int {
	t.Helper()
	return niceness(t, os.Getpid())
}

// niceness reads a process's niceness, field 19 of /proc/PID/stat.
func niceness(t *testing.T, pid int) int {
	t.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields 3 on follow the command name in parentheses.
	_, rest, _ := bytes.Cut(stat, []byte(") "))
	fields := strings.Fields(string(rest))
	if len(fields) < 17 {
		t.Fatalf("short /proc/%d/stat: %q", pid, stat)
	}
	n, err := strconv.Atoi(fields[19-3])
	if err != nil {
		t.Fatalf("/proc/%d/stat: niceness: %v", pid, err)
	}
	return n
}

func renice(pid, nice int) []string {
	return []string{"renice", "--pid", strconv.Itoa(pid), "--nice", strconv.Itoa(nice)}
}

type stdinKind string

const (
	stdinDevNull stdinKind = "dev-null"
	stdinPipe    stdinKind = "pipe"
	stdinClosed  stdinKind = "closed"
)

// run is one run of gotask as the sudo user, without a terminal.
type run struct {
	password string    // GOTASK_SUDO_PASSWORD; "" leaves it unset
	stdin    stdinKind // "" is /dev/null; a pipe carries "data\n"
	args     []string  // after -f tasks.toml
	asRoot   bool      // run as root, whose sudo asks no password
}

type runResult struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

func (r runResult) String() string {
	return "--- stdout:\n" + r.stdout + "\n--- stderr:\n" + r.stderr
}

func (r runResult) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\n%s", r.code, code, r)
	}
}

func (r runResult) wantNonZero(t *testing.T) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("exit status 0, want a failure\n%s", r)
	}
}

// run runs gotask as the sudo user and returns what it printed. It fails
// the test if gotask does not finish within runTimeout.
func (e *sudoEnv) run(t *testing.T, r run) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	args := append([]string{"-f", e.tasks}, r.args...)
	var cmd *exec.Cmd
	if r.stdin == stdinClosed {
		args = append([]string{"-c", `exec "$0" "$@" 0<&-`, e.bin}, args...)
		cmd = exec.CommandContext(ctx, "/bin/sh", args...)
	} else {
		cmd = exec.CommandContext(ctx, e.bin, args...)
	}
	if r.stdin == stdinPipe {
		cmd.Stdin = strings.NewReader("data\n")
	}
	cmd.Dir = e.dir
	cmd.Env = e.environ(r.password)
	if !r.asRoot {
		cmd.SysProcAttr = e.credential()
	}
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("gotask %s did not finish within %v\n%s", strings.Join(r.args, " "), runTimeout, res)
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running gotask: %v", err)
	}
	return res
}

// runPty runs gotask as the sudo user on a new terminal, with
// GOTASK_SUDO_PASSWORD set to password unless it is "". interact, if not
// nil, may read the output and type on the terminal while gotask runs.
// runPty returns all the output and the exit status.
func (e *sudoEnv) runPty(t *testing.T, password string, args []string, interact func(context.Context, *transcript, io.Writer)) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, append([]string{"-f", e.tasks}, args...)...)
	cmd.Dir = e.dir
	cmd.Env = append(e.environ(password), "TERM=dumb")
	cmd.SysProcAttr = e.credential()
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	out := newTranscript(ptmx)
	if interact != nil {
		interact(ctx, out, ptmx)
	}
	err = cmd.Wait()
	text := out.wait(ctx)
	if ctx.Err() != nil {
		t.Fatalf("gotask %s did not finish within %v\n%s", strings.Join(args, " "), runTimeout, text)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return text, ee.ExitCode()
	case err != nil:
		t.Fatalf("running gotask: %v", err)
	}
	return text, 0
}

// transcript collects what a terminal shows, and lets a test wait for a
// piece of it.
type transcript struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	more chan struct{} // has a value when new output arrived
	done chan struct{} // closed at the end of the output
}

func newTranscript(r io.Reader) *transcript {
	p := &transcript{more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
			if err != nil { // EIO once every process has closed the terminal
				return
			}
		}
	}()
	return p
}

func (p *transcript) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// waitFor waits until the output shows s, and fails the test if it ends
// or ctx is done first.
func (p *transcript) waitFor(t *testing.T, ctx context.Context, s string) {
	t.Helper()
	for !strings.Contains(p.String(), s) {
		select {
		case <-p.more:
		case <-p.done:
			if !strings.Contains(p.String(), s) {
				t.Fatalf("the output ended without %q:\n%s", s, p)
			}
		case <-ctx.Done():
			t.Fatalf("no %q in the output:\n%s", s, p)
		}
	}
}

// wait waits for the end of the output, or for ctx, and returns it.
func (p *transcript) wait(ctx context.Context) string {
	select {
	case <-p.done:
	case <-ctx.Done():
	}
	return p.String()
}
