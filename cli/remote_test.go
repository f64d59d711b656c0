package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gotask/gotask/cli"
	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/task"
)

// These tests drive the whole CLI, from flags to the summary, against a
// real OpenSSH sshd on a loopback port. They skip without sshd, unless
// GOTASK_REQUIRE_REAL_PEERS=1.

// hangGuard bounds what a test waits for, only so that a broken
// mechanism fails the test rather than hanging it: far beyond what the
// slowest machine needs. No test asserts how long anything took.
const hangGuard = 2 * time.Minute

// sshSetup is a real sshd and an ssh_config naming it by aliases.
type sshSetup struct {
	d *sshtest.SSHD
	// Config is the ssh_config to pass with -F; KnownHosts the
	// known_hosts file it names.
	Config, KnownHosts string
}

// newSSH starts sshd and writes an ssh_config in which every alias is
// the sshd, logged in as the test's user, and where every host (aliases,
// 127.0.0.1 and the extra blocks alike) uses the test key and a
// known_hosts file of its own that already trusts the sshd. extra, when
// set, gives more Host blocks; they come first, so their settings win
// (ssh_config keeps a key's first value).
func newSSH(t *testing.T, opts sshtest.SSHDOptions, extra func(d *sshtest.SSHD) string, aliases ...string) *sshSetup {
	t.Helper()
	d := sshtest.StartSSHDWith(t, opts)
	dir := t.TempDir()
	s := &sshSetup{d: d, Config: filepath.Join(dir, "ssh_config"), KnownHosts: filepath.Join(dir, "known_hosts")}
	known, err := os.ReadFile(d.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.KnownHosts, known, 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if extra != nil {
		b.WriteString(extra(d) + "\n")
	}
	if len(aliases) > 0 {
		fmt.Fprintf(&b, "Host %s\n  HostName 127.0.0.1\n  Port %d\n  User %s\n", strings.Join(aliases, " "), d.Port, d.User)
	}
	fmt.Fprintf(&b, "Host *\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n",
		d.KeyFile, s.KnownHosts)
	if err := os.WriteFile(s.Config, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// hostNames returns prefix1 .. prefixN.
func hostNames(prefix string, n int) []string {
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, prefix+strconv.Itoa(i))
	}
	return names
}

// writeTasks writes tasks.toml into a new directory and returns its path.
func writeTasks(t *testing.T, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tasks.toml")
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// syncBuffer is a bytes.Buffer safe for concurrent use; onWrite, when
// set, sees the whole content after every write.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	onWrite func(all string)
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.onWrite != nil {
		b.onWrite(b.buf.String())
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// outcome is what one gotask run printed and returned.
type outcome struct {
	code           int
	stdout, stderr string
}

// run runs the gotask CLI in-process with the test's tasks.toml and
// ssh_config, no stdin and no terminal.
func (s *sshSetup) run(t *testing.T, tasksFile string, args ...string) outcome {
	t.Helper()
	return s.runCtx(t.Context(), t, tasksFile, &syncBuffer{}, args...)
}

func (s *sshSetup) runCtx(ctx context.Context, t *testing.T, tasksFile string, stdout *syncBuffer, args ...string) outcome {
	t.Helper()
	var stderr syncBuffer
	full := append([]string{"-f", tasksFile, "-F", s.Config}, args...)
	code := cli.Main(ctx, full, &cli.Streams{Out: stdout, ErrOut: &stderr}, cli.WithRegistry(task.NewRegistry()))
	o := outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
	t.Logf("gotask %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, o.stdout, o.stderr)
	return o
}

func TestRemoteTaskRunsOnHostFromCommandLine(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "web")
	file := writeTasks(t, `
[tasks.mytime]
run = 'echo "remote $SSH_CONNECTION"'
`)
	for _, host := range []string{s.d.User + "@127.0.0.1:" + strconv.Itoa(s.d.Port), "web"} {
		t.Run(host, func(t *testing.T) {
			o := s.run(t, file, "-H", host, "mytime")
			if o.code != 0 {
				t.Fatalf("exit %d, want 0; stderr:\n%s", o.code, o.stderr)
			}
			// SSH_CONNECTION is "client-ip client-port server-ip
			// server-port": only sshd's shell has it, with sshd's port.
			f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(o.stdout), "remote"))
			if !strings.HasPrefix(o.stdout, "remote ") || len(f) != 4 || f[2] != "127.0.0.1" || f[3] != strconv.Itoa(s.d.Port) {
				t.Errorf("stdout = %q, want \"remote <client> 127.0.0.1 %d\" from the remote shell", o.stdout, s.d.Port)
			}
		})
	}
}

// TestRemotePutRunSudoGet logs in as the sudo test user, uploads a
// script, runs it, runs a command through sudo with the password from
// GOTASK_SUDO_PASSWORD, and downloads what the script wrote.
func TestRemotePutRunSudoGet(t *testing.T) {
	sudoUser, password := os.Getenv("GOTASK_TEST_SUDO_USER"), os.Getenv("GOTASK_TEST_SUDO_PASSWORD")
	if sudoUser == "" || password == "" {
		sshtest.MissingPeer(t, "GOTASK_TEST_SUDO_USER and GOTASK_TEST_SUDO_PASSWORD are not set (.ci/run creates that user, whose sudo asks for its password, and sets them)")
	}
	if os.Geteuid() != 0 {
		sshtest.MissingPeer(t, "logging in to the test sshd as "+sudoUser+" needs the test to run as root")
	}
	u, err := user.Lookup(sudoUser)
	if err != nil {
		t.Fatalf("GOTASK_TEST_SUDO_USER=%s: %v", sudoUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s := newSSH(t, sshtest.SSHDOptions{AnyUser: true}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host sudohost\n  HostName 127.0.0.1\n  Port %d\n  User %s\n", d.Port, sudoUser)
	})

	// A directory the remote user owns, outside the test's private
	// temporary directories, which that user cannot enter.
	remoteDir, err := os.MkdirTemp("", "gotask-remote-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(remoteDir) })
	if err := os.Chown(remoteDir, uid, gid); err != nil {
		t.Fatal(err)
	}
	file := writeTasks(t, strings.ReplaceAll(`
[tasks.deploy]
steps = [
  { put = "tool.sh", to = "REMOTE/tool.sh", mode = "0755" },
  { put = "pw.txt", to = "REMOTE/pw.txt" },
  { run = "REMOTE/tool.sh > REMOTE/out.txt && cat REMOTE/out.txt" },
  { run = 'echo "plain=$(id -u)"' },
  { run = 'echo "sudo=$(id -u)"', sudo = true },
  { run = 'echo "echoed=$(cat REMOTE/pw.txt)"' },
  { get = "REMOTE/out.txt", to = "back.txt" },
]
`, "REMOTE", remoteDir))
	local := filepath.Dir(file)
	script := "#!/bin/sh\necho \"tool ran as $(id -un) from $(basename \"$0\") mode $(stat -c %a \"$0\")\"\n"
	if err := os.WriteFile(filepath.Join(local, "tool.sh"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(local, "pw.txt"), []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOTASK_SUDO_PASSWORD", password)

	o := s.run(t, file, "-H", "sudohost", "deploy")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", o.code, o.stderr)
	}
	wantTool := "tool ran as " + sudoUser + " from tool.sh mode 755\n"
	for _, want := range []string{wantTool, "plain=" + u.Uid + "\n", "sudo=0\n", "echoed=****\n"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Contains(o.stdout+o.stderr, password) {
		t.Errorf("the sudo password shows in the output")
	}
	if strings.Contains(o.stdout+o.stderr, "[sudo] gotask password nonce=") {
		t.Errorf("the output shows sudo's prompt")
	}
	back, err := os.ReadFile(filepath.Join(local, "back.txt"))
	if err != nil || string(back) != wantTool {
		t.Errorf("get brought back %q, %v; want %q", back, err, wantTool)
	}
}

// TestRemoteHostKeys: an unknown host is refused with its fingerprint
// and how to accept it, --accept-new-host-keys records it, and a changed
// key is refused even then.
func TestRemoteHostKeys(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "web")
	marker := filepath.Join(t.TempDir(), "ran")
	file := writeTasks(t, `
[tasks.touch]
run = "touch '`+marker+`' && echo touched"
`)
	ran := func() bool {
		_, err := os.Stat(marker)
		return err == nil
	}
	fingerprint := ssh.FingerprintSHA256(s.d.HostKey)
	if err := os.Remove(s.KnownHosts); err != nil {
		t.Fatal(err)
	}

	o := s.run(t, file, "-H", "web", "touch")
	if o.code == 0 || ran() {
		t.Fatalf("unknown host: exit %d, ran %v; want a refusal before anything runs", o.code, ran())
	}
	for _, want := range []string{"is not known", fingerprint, "--accept-new-host-keys"} {
		if !strings.Contains(o.stderr, want) {
			t.Errorf("unknown host: stderr lacks %q", want)
		}
	}
	if _, err := os.Stat(s.KnownHosts); err == nil {
		t.Errorf("unknown host: known_hosts was written without --accept-new-host-keys")
	}

	o = s.run(t, file, "--accept-new-host-keys", "-H", "web", "touch")
	if o.code != 0 || !ran() || o.stdout != "touched\n" {
		t.Fatalf("--accept-new-host-keys: exit %d, ran %v, stdout %q; want it to run", o.code, ran(), o.stdout)
	}
	known, err := os.ReadFile(s.KnownHosts)
	wantLine := fmt.Sprintf("[127.0.0.1]:%d %s", s.d.Port, ssh.MarshalAuthorizedKey(s.d.HostKey))
	if err != nil || string(known) != wantLine {
		t.Fatalf("known_hosts = %q, %v; want %q", known, err, wantLine)
	}

	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	o = s.run(t, file, "-H", "web", "touch")
	if o.code != 0 || !ran() {
		t.Fatalf("recorded host: exit %d, ran %v; want it to run without the flag", o.code, ran())
	}

	// Another key for the same host: a man in the middle, or a reinstall.
	other, err := sshtest.NewKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	changed := fmt.Sprintf("[127.0.0.1]:%d %s", s.d.Port, ssh.MarshalAuthorizedKey(other.PublicKey()))
	if err := os.WriteFile(s.KnownHosts, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	o = s.run(t, file, "--accept-new-host-keys", "-H", "web", "touch")
	if o.code == 0 || ran() {
		t.Fatalf("changed key: exit %d, ran %v; want a refusal before anything runs", o.code, ran())
	}
	for _, want := range []string{"HOST KEY OF 127.0.0.1:" + strconv.Itoa(s.d.Port) + " HAS CHANGED", fingerprint, s.KnownHosts + ":1"} {
		if !strings.Contains(o.stderr, want) {
			t.Errorf("changed key: stderr lacks %q", want)
		}
	}
	if after, _ := os.ReadFile(s.KnownHosts); string(after) != changed {
		t.Errorf("changed key: known_hosts became %q; it must be left alone", after)
	}
}
