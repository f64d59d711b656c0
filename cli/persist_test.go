package cli_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/gotask/gotask/internal/sshtest"
)

// These tests run gotask as separate processes, as a user would: the
// first run with --persist leaves the mux process behind, and the later
// runs, processes of their own, use it. Each test has its own mux (its
// own XDG_RUNTIME_DIR), stopped when it ends.

// persistSetup is a real sshd, an ssh_config naming it h1, and the
// environment of a user whose mux lives in a directory of the test's.
type persistSetup struct {
	*sshSetup
	bin  string
	env  []string
	dir  string // the mux's directory
	work string // where gotask runs
}

func newPersist(t *testing.T) *persistSetup {
	t.Helper()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "h1")
	// A short path: a unix socket's path must fit in 108 bytes.
	xdg, err := os.MkdirTemp("", "gp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(xdg) })
	p := &persistSetup{
		sshSetup: s,
		bin:      gotaskBinary(t),
		dir:      filepath.Join(xdg, "gotask"),
		work:     t.TempDir(),
		env: []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C",
			"XDG_RUNTIME_DIR=" + xdg,
		},
	}
	t.Cleanup(func() {
		// Whatever the test did, no mux outlives it.
		p.gotask(t, "--persist-stop")
	})
	return p
}

// gotask runs the gotask program with the test's ssh_config.
func (p *persistSetup) gotask(t *testing.T, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, append([]string{"-F", p.Config}, args...)...)
	cmd.Dir, cmd.Env = p.work, p.env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	o := outcome{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		o.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("gotask %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("gotask %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), o.code, o.stdout, o.stderr)
	return o
}

// logins counts the logins sshd accepted: one per SSH connection.
func (p *persistSetup) logins() int {
	return strings.Count(p.d.Log(), "Accepted publickey")
}

// muxPID asks the kernel which process listens on the mux's socket.
func (p *persistSetup) muxPID(t *testing.T) int {
	t.Helper()
	c, err := net.Dial("unix", filepath.Join(p.dir, "mux.sock"))
	if err != nil {
		t.Fatalf("no mux answers: %v", err)
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var cred *unix.Ucred
	var cerr error
	raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if cerr != nil {
		t.Fatal(cerr)
	}
	return int(cred.Pid)
}

// TestPersistReusesConnection: a second gotask process runs its command
// over the connection the first one left with the mux (sshd accepts one
// login for both), and so do sessions with a pty, put and get, failing
// commands; --persist-stop ends the mux, its socket and its process.
func TestPersistReusesConnection(t *testing.T) {
	p := newPersist(t)
	if o := p.gotask(t, "--persist", "1m", "-H", "h1", "--", "echo", "first"); o.code != 0 || !strings.Contains(o.stdout, "first") {
		t.Fatalf("first run: exit %d, stdout %q", o.code, o.stdout)
	}
	if n := p.logins(); n != 1 {
		t.Fatalf("sshd accepted %d logins for the first run, want 1", n)
	}

	// The socket and its directory are the user's alone.
	fi, err := os.Stat(filepath.Join(p.dir, "mux.sock"))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("mux.sock: %v, mode %v; want a socket, mode 0600", err, fi.Mode())
	}
	if di, err := os.Stat(p.dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("mux directory: %v, mode %v; want 0700", err, di.Mode().Perm())
	}
	pid := p.muxPID(t)

	if o := p.gotask(t, "--persist", "1m", "-H", "h1", "--", "echo", "second"); o.code != 0 || !strings.Contains(o.stdout, "second") {
		t.Fatalf("second run: exit %d, stdout %q", o.code, o.stdout)
	}

	// A failing command's exit status comes through as without the mux.
	direct := p.gotask(t, "-H", "h1", "--", "exit 3").code
	if direct == 0 {
		t.Fatal("exit 3 without the mux exits 0")
	}
	before := p.logins()
	if o := p.gotask(t, "--persist", "1m", "-H", "h1", "--", "exit 3"); o.code != direct || !strings.Contains(o.stdout+o.stderr, "3") {
		t.Errorf("exit 3 through the mux: exit %d, want %d as without it", o.code, direct)
	}

	// A pty, put and get through the mux.
	remote := t.TempDir()
	tasks := filepath.Join(p.work, "tasks.toml")
	writeFile(t, tasks, strings.ReplaceAll(`
[tasks.deploy]
steps = [
  { put = "in.txt", to = "REMOTE/in.txt" },
  { run = "test -t 0 && echo tty=yes || echo tty=no", pty = true },
  { run = "tr a-z A-Z < REMOTE/in.txt > REMOTE/out.txt" },
  { get = "REMOTE/out.txt", to = "back.txt" },
]
`, "REMOTE", remote))
	writeFile(t, filepath.Join(p.work, "in.txt"), "payload\n")
	if o := p.gotask(t, "--persist", "1m", "-H", "h1", "deploy"); o.code != 0 || !strings.Contains(o.stdout, "tty=yes") {
		t.Errorf("deploy through the mux: exit %d, stdout %q; want tty=yes", o.code, o.stdout)
	}
	if back, err := os.ReadFile(filepath.Join(p.work, "back.txt")); err != nil || string(back) != "PAYLOAD\n" {
		t.Errorf("get brought back %q, %v; want PAYLOAD", back, err)
	}
	if n := p.logins(); n != before {
		t.Errorf("sshd accepted %d more logins for runs through the mux, want none", n-before)
	}

	o := p.gotask(t, "--persist-stop")
	if o.code != 0 || !strings.Contains(o.stderr, "stopped") {
		t.Errorf("--persist-stop: exit %d, stderr %q", o.code, o.stderr)
	}
	if _, err := os.Lstat(filepath.Join(p.dir, "mux.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket is still there after --persist-stop: %v", err)
	}
	for !gone(pid) {
		// --persist-stop returned once the mux closed its connection;
		// its exit follows. Bounded by the test's timeout.
		time.Sleep(10 * time.Millisecond)
	}
	if o := p.gotask(t, "--persist-stop"); o.code != 0 || !strings.Contains(o.stderr, "no connection mux") {
		t.Errorf("second --persist-stop: exit %d, stderr %q", o.code, o.stderr)
	}
}

// TestPersistChangedHostKey: the run that reuses a connection checks the
// host key with its own known_hosts: one that no longer vouches for the
// host refuses the mux's connection. And a mux dialling a host asks the
// run before it authenticates: an unknown host gets no login attempt.
func TestPersistChangedHostKey(t *testing.T) {
	p := newPersist(t)
	if o := p.gotask(t, "--persist", "1m", "-H", "h1", "--", "true"); o.code != 0 {
		t.Fatalf("first run: exit %d", o.code)
	}
	other, err := sshtest.NewKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("[127.0.0.1]:%d %s", p.d.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other.PublicKey()))))
	writeFile(t, p.KnownHosts, line+"\n")
	o := p.gotask(t, "--persist", "1m", "-H", "h1", "--", "echo", "ran")
	if o.code == 0 || strings.Contains(o.stdout, "ran") || !strings.Contains(o.stdout+o.stderr, "HAS CHANGED") {
		t.Errorf("with a changed known_hosts entry: exit %d, stdout %q; want the host key refused", o.code, o.stdout)
	}

	// A host the run does not know: the mux's dial stops at the key.
	q := newPersist(t)
	writeFile(t, q.KnownHosts, "")
	o = q.gotask(t, "--persist", "1m", "-H", "h1", "--", "echo", "ran")
	if o.code == 0 || !strings.Contains(o.stdout+o.stderr, "is not known") {
		t.Errorf("unknown host: exit %d; want it refused as not known", o.code)
	}
	if log := q.d.Log(); strings.Contains(log, "publickey") || strings.Contains(log, "Accepted") {
		t.Errorf("the mux tried to log in to a host its run refused:\n%s", log)
	}
}

// TestPersistOtherIdentity: a run offering other keys never gets the
// connection another identity logged in with.
func TestPersistOtherIdentity(t *testing.T) {
	p := newPersist(t)
	if o := p.gotask(t, "--persist", "1m", "-H", "h1", "--", "true"); o.code != 0 {
		t.Fatalf("first run: exit %d", o.code)
	}
	other, err := sshtest.NewKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "other")
	if err := other.Write(keyFile, ""); err != nil {
		t.Fatal(err)
	}
	p.d.AuthorizeKey(t, other.PublicKey())
	if o := p.gotask(t, "--persist", "1m", "-i", keyFile, "-H", "h1", "--", "true"); o.code != 0 {
		t.Fatalf("run with -i: exit %d", o.code)
	}
	if n := p.logins(); n != 2 {
		t.Errorf("sshd accepted %d logins; want 2, the second run's keys differing", n)
	}
	if o := p.gotask(t, "--persist", "1m", "-i", keyFile, "-H", "h1", "--", "true"); o.code != 0 || p.logins() != 2 {
		t.Errorf("the same keys again: exit %d, %d logins; want the kept connection", o.code, p.logins())
	}
}

// TestPersistOtherUser: another user cannot talk to the mux, neither
// through the socket's permissions nor, with them opened up by mistake,
// past the mux's check of the connecting process's uid.
func TestPersistOtherUser(t *testing.T) {
	sudoUser := os.Getenv("GOTASK_TEST_SUDO_USER")
	if sudoUser == "" || os.Geteuid() != 0 {
		sshtest.MissingPeer(t, "GOTASK_TEST_SUDO_USER is not set or the test does not run as root (needed to connect as another user)")
	}
	if _, err := exec.LookPath("nc"); err != nil {
		sshtest.MissingPeer(t, "nc is not installed (Debian: apt-get install netcat-openbsd)")
	}
	p := newPersist(t)
	if o := p.gotask(t, "--persist", "1m", "-H", "h1", "--", "true"); o.code != 0 {
		t.Fatalf("first run: exit %d", o.code)
	}
	sock := filepath.Join(p.dir, "mux.sock")
	probe := func(as string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // hang guard only
		defer cancel()
		args := []string{"nc", "-U", sock}
		if as != "" {
			args = append([]string{"sudo", "-n", "-u", as}, args...)
		}
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.WaitDelay = time.Second // sudo's nc may hold stdout after sudo is killed
		// Keep stdin open: nc would otherwise stop at its end.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		defer r.Close()
		cmd.Stdin = r
		var out strings.Builder
		cmd.Stdout = &stopAtBanner{w: &out, cancel: cancel}
		err = cmd.Run()
		t.Logf("%s: %v, stdout %q", strings.Join(args, " "), err, out.String())
		return out.String()
	}
	if got := probe(""); !strings.Contains(got, "SSH-2.0") {
		t.Fatalf("the user itself gets %q from the mux, want its SSH banner", got)
	}
	if got := probe(sudoUser); strings.Contains(got, "SSH-") {
		t.Errorf("%s reached the mux: %q", sudoUser, got)
	}
	// Opened up by mistake: the uid check still refuses.
	for _, d := range []string{filepath.Dir(filepath.Dir(sock)), filepath.Dir(sock)} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	if got := probe(sudoUser); strings.Contains(got, "SSH-") {
		t.Errorf("%s reached the mux through an opened socket: %q", sudoUser, got)
	}
	if log, _ := os.ReadFile(filepath.Join(p.dir, "mux.log")); !strings.Contains(string(log), "refused a connection from uid") {
		t.Errorf("the mux's log does not say it refused the other user:\n%s", log)
	}
	os.Chmod(filepath.Dir(sock), 0o700)
}

// stopAtBanner passes output on and ends the probe once it holds an SSH
// banner line.
type stopAtBanner struct {
	w      *strings.Builder
	cancel func()
}

func (s *stopAtBanner) Write(b []byte) (int, error) {
	s.w.Write(b)
	if strings.Contains(s.w.String(), "\n") {
		s.cancel()
	}
	return len(b), nil
}

// TestPersistControlPersistAndIdle: ssh_config's ControlPersist keeps a
// host's connection without --persist; the mux ends by itself once
// unused for that long; a socket left by a mux that died is replaced.
func TestPersistControlPersistAndIdle(t *testing.T) {
	p := newPersist(t)
	cfg, err := os.ReadFile(p.Config)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, p.Config, "Host h1\n  ControlPersist 1\n"+string(cfg))
	if o := p.gotask(t, "-H", "h1", "--", "true"); o.code != 0 {
		t.Fatalf("first run: exit %d", o.code)
	}
	pid := p.muxPID(t)
	if o := p.gotask(t, "-H", "h1", "--", "true"); o.code != 0 || p.logins() != 1 {
		t.Fatalf("second run: exit %d, %d logins; want the kept connection", o.code, p.logins())
	}
	for !gone(pid) {
		// ControlPersist 1: the mux ends a second after the last run.
		// Bounded by the test's timeout.
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Lstat(filepath.Join(p.dir, "mux.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the idle mux left its socket: %v", err)
	}

	// A socket no one listens on, as a killed mux leaves it.
	l, err := net.Listen("unix", filepath.Join(p.dir, "mux.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if o := p.gotask(t, "--persist", "1m", "-H", "h1", "--", "echo", "again"); o.code != 0 || !strings.Contains(o.stdout, "again") {
		t.Errorf("with a stale socket: exit %d, stdout %q; want a new mux", o.code, o.stdout)
	}
	if p.muxPID(t) == pid {
		t.Error("the old mux answers")
	}
}
