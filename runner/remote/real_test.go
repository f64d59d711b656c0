package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// These tests meet a real OpenSSH sshd on a loopback port. They skip
// without sshd, unless GOTASK_REQUIRE_REAL_PEERS=1.

func realConfig(d *sshtest.SSHD) *Config {
	return &Config{
		SSHConfig:       "none",
		AgentSocket:     "none",
		IdentityFiles:   []string{d.KeyFile},
		KnownHostsFiles: []string{d.KnownHosts},
		StopGrace:       time.Second,
	}
}

func dialReal(t *testing.T, d *sshtest.SSHD, cfg *Config) *Client {
	t.Helper()
	if cfg == nil {
		cfg = realConfig(d)
	}
	c, err := Dial(t.Context(), d.User+"@"+d.Addr, cfg)
	if err != nil {
		t.Fatalf("Dial %s: %v\nsshd log:\n%s", d.Addr, err, d.Log())
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRealCommands(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	dir := t.TempDir()
	tests := []struct {
		name   string
		cmd    runner.Cmd
		code   int
		stdout string
		stderr string
	}{
		{name: "user", cmd: runner.Cmd{Command: "id -un"}, stdout: d.User + "\n"},
		{name: "streams apart", cmd: runner.Cmd{Command: "echo out; echo err >&2"}, stdout: "out\n", stderr: "err\n"},
		{name: "exit code", cmd: runner.Cmd{Command: "exit 42"}, code: 42},
		{name: "env quoted", cmd: runner.Cmd{Command: `printf %s "$V"`, Env: []string{"V=$(touch " + dir + "/pwned)'\""}}, stdout: "$(touch " + dir + "/pwned)'\""},
		{name: "dir", cmd: runner.Cmd{Command: "pwd", Dir: dir}, stdout: dir + "\n"},
		// Every list of the command runs in Dir, not just the first.
		{name: "dir for every list", cmd: runner.Cmd{Command: "pwd & wait; pwd", Dir: dir}, stdout: dir + "\n" + dir + "\n"},
		// A cd that fails runs nothing (not the rest in the home directory).
		{name: "dir missing", cmd: runner.Cmd{Command: "true; echo ran", Dir: dir + "/missing"}, code: 1, stderr: "*"},
		{name: "home dir", cmd: runner.Cmd{Command: `test "$(pwd)" = "$HOME" && echo home`, Dir: "~"}, stdout: "home\n"},
		{name: "pty", cmd: runner.Cmd{Command: "test -t 1 && echo tty", Pty: runner.PtyOn}, stdout: "tty\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Run(t.Context(), &tt.cmd)
			if tt.code == 0 && err != nil {
				t.Fatal(err)
			}
			var ee *runner.ExitError
			if tt.code != 0 && (!errors.As(err, &ee) || ee.Code != tt.code) {
				t.Fatalf("err %v, want exit %d", err, tt.code)
			}
			if string(res.Stdout) != tt.stdout || tt.stderr != "*" && string(res.Stderr) != tt.stderr {
				t.Errorf("got %q / %q, want %q / %q", res.Stdout, res.Stderr, tt.stdout, tt.stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("an env value was executed")
	}
}

func TestRealTimeout(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	cfg := realConfig(d)
	cfg.StopGrace = 500 * time.Millisecond
	c := dialReal(t, d, cfg)
	// OpenSSH refuses the signal request for root logins ("session
	// signalling requires privilege separation"): the command is stopped
	// by kill in a second session instead, for root as for anyone.
	tests := []struct {
		name     string
		pty      runner.PtyMode
		mustStop bool
	}{
		// Ctrl-C reaches the whole foreground process group.
		{"pty, compound command", runner.PtyOn, true},
		// TERM, then KILL, go to the process group from a second session.
		{"pipes, compound command", runner.PtyOff, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The commands run on this machine. The shell writes its pid,
			// then waits on a sleep that outlives any test, and would
			// leave a marker after it: only a stop ends it.
			dir := t.TempDir()
			pidFile, marker := filepath.Join(dir, "pid"), filepath.Join(dir, "ran-to-the-end")
			command := fmt.Sprintf("echo $$ > %s; sleep 3600 && touch %s", pidFile, marker)
			ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
			defer cancel()
			_, err := c.Run(ctx, &runner.Cmd{Command: command, Pty: tt.pty, Timeout: time.Second})
			var ee *runner.ExitError
			if !errors.As(err, &ee) || !ee.TimedOut {
				t.Fatalf("err %v, want a timeout", err)
			}
			b, err := os.ReadFile(pidFile)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			switch {
			case err != nil || pid <= 1:
				// On a very busy machine the timeout may come before the
				// shell starts; then nothing ran, which the marker shows.
				t.Logf("the command did not start before its timeout: %v", err)
			case tt.mustStop:
				if !processGone(pid) {
					t.Errorf("the command's shell (pid %d) outlived its timeout", pid)
				}
			default:
				// Run returned, with the command abandoned rather than
				// waited for (which would have taken an hour). End it.
				if !exited(pid) {
					killTree(pid)
				}
			}
			// The connection is still good.
			if _, err := c.Run(t.Context(), &runner.Cmd{Command: "true"}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the command ran to its end")
			}
		})
	}
}

// processGone waits until pid has exited, or says it has not after
// hangGuard.
func processGone(pid int) bool {
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if exited(pid) {
			return true
		}
	}
	return false
}

// exited says whether pid has exited (a zombie counts).
func exited(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err != nil || bytes.Contains(stat, []byte(") Z "))
}

// killTree kills pid and its children.
func killTree(pid int) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for _, f := range strings.Fields(string(b)) {
		if child, err := strconv.Atoi(f); err == nil && child > 1 {
			_ = syscall.Kill(child, syscall.SIGKILL)
		}
	}
}

func TestRealSessionsRefused(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t) // sshd's default MaxSessions is 10
	cfg := realConfig(d)
	cfg.MaxSessions = 20
	c := dialReal(t, d, cfg)
	dir := t.TempDir()
	const n = 12
	var wg sync.WaitGroup
	started := make(chan struct{}, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		fifo := filepath.Join(dir, fmt.Sprint("fifo", i))
		if err := exec.Command("mkfifo", fifo).Run(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newSignalWriter("started")
			go func() {
				select {
				case <-w.seen:
					started <- struct{}{}
				case <-t.Context().Done():
				}
			}()
			_, err := c.Run(t.Context(), &runner.Cmd{Command: "echo started; cat " + fifo, Stdout: w})
			errs <- err
		}()
	}
	timeout := time.After(hangGuard)
	for i := 0; i < n; i++ {
		select {
		case <-started:
		case <-timeout:
			t.Fatalf("only %d of %d commands running at once\nsshd log:\n%s", i, n, d.Log())
		}
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("fifo", i)), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if c.Conns() < 2 {
		t.Errorf("%d connections: the refused 11th session should have opened another", c.Conns())
	}
}

func writeRandom(t *testing.T, path string, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

func fileSum(t *testing.T, path string) []byte {
	t.Helper()
	s, err := fileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRealPutGetLargeFile(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	local := t.TempDir()
	remote := t.TempDir() // same machine: "remote" paths are local paths sshd's user can reach
	src := filepath.Join(local, "big.bin")
	sum := writeRandom(t, src, 50<<20)

	dst := filepath.Join(remote, "big.bin")
	res, err := c.Put(t.Context(), src, dst, &runner.CopyOptions{Mode: 0o640})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 1 || res.Unchanged != 0 || res.Bytes != 50<<20 {
		t.Errorf("first put: %+v", res)
	}
	if !bytes.Equal(fileSum(t, dst), sum) {
		t.Fatal("uploaded file differs")
	}
	if st, _ := os.Stat(dst); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	assertNoTemp(t, remote)

	res, err = c.Put(t.Context(), src, dst, nil)
	if err != nil || res.Unchanged != 1 || res.Files != 0 || res.Bytes != 0 {
		t.Errorf("second put: %+v %v, want unchanged", res, err)
	}
	if st, _ := os.Stat(dst); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after an unchanged put without Mode, want the source's 0600", st.Mode().Perm())
	}

	back := filepath.Join(local, "back.bin")
	res, err = c.Get(t.Context(), dst, back, nil)
	if err != nil || res.Files != 1 || res.Bytes != 50<<20 {
		t.Fatalf("get: %+v %v", res, err)
	}
	if !bytes.Equal(fileSum(t, back), sum) {
		t.Fatal("downloaded file differs")
	}
	if st, _ := os.Stat(back); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 from the source", st.Mode().Perm())
	}
	res, err = c.Get(t.Context(), dst, back, nil)
	if err != nil || res.Unchanged != 1 || res.Files != 0 {
		t.Errorf("second get: %+v %v, want unchanged", res, err)
	}
	assertNoTemp(t, local)
}

func TestRealCopyEdges(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	local := t.TempDir()
	remote := t.TempDir()
	src := filepath.Join(local, "f.txt")
	if err := os.WriteFile(src, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("into an existing directory", func(t *testing.T) {
		if _, err := c.Put(t.Context(), src, remote, nil); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(remote, "f.txt")); string(b) != "hello" {
			t.Fatalf("got %q", b)
		}
	})
	t.Run("tilde is the remote home", func(t *testing.T) {
		// The login directory, where sshd starts commands and SFTP. (The
		// test sshd gives commands an empty HOME instead, to keep the
		// machine's dotfiles out; see sshtest.SSHD.Home.)
		res, err := c.Run(t.Context(), &runner.Cmd{Command: "pwd"})
		if err != nil {
			t.Fatal(err)
		}
		home := strings.TrimSuffix(string(res.Stdout), "\n")
		name := fmt.Sprintf("gotask-remote-test-%d", time.Now().UnixNano())
		t.Cleanup(func() { os.Remove(filepath.Join(home, name)) })
		if _, err := c.Put(t.Context(), src, "~/"+name, nil); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(home, name)); string(b) != "hello" {
			t.Fatalf("~/%s has %q", name, b)
		}
	})
	t.Run("failed transfer leaves nothing", func(t *testing.T) {
		// The destination's directory does not exist: no file, no
		// temporary file, an error naming the host.
		_, err := c.Put(t.Context(), src, filepath.Join(remote, "missing-dir", "f.txt"), nil)
		if err == nil || !strings.Contains(err.Error(), d.Addr) {
			t.Fatalf("err %v", err)
		}
		assertNoTemp(t, remote)
	})
	t.Run("cancelled put leaves the old file", func(t *testing.T) {
		dst := filepath.Join(remote, "keep.txt")
		if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		big := filepath.Join(local, "big")
		writeRandom(t, big, 8<<20)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := c.Put(ctx, big, dst, nil); err == nil {
			t.Fatal("no error")
		}
		if b, _ := os.ReadFile(dst); string(b) != "old" {
			t.Errorf("destination now %d bytes", len(b))
		}
		assertNoTemp(t, remote)
	})
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err == nil && strings.Contains(de.Name(), ".gotask-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := de.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, info.Mode().Perm())
		if de.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestRealTree(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	src := filepath.Join(t.TempDir(), "site")
	files := map[string]os.FileMode{"index.html": 0o644, "bin/run.sh": 0o755, "a/b/c/deep.txt": 0o600, "a/empty": 0o644}
	for name, mode := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("content of "+name), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(src, "emptydir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(src, 0o750); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "deployed")
	res, err := c.Put(t.Context(), src, dst, nil)
	if err != nil || res.Files != len(files) {
		t.Fatalf("put tree: %+v %v", res, err)
	}
	if got, want := listTree(t, dst), listTree(t, src); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tree differs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	res, err = c.Put(t.Context(), src, dst, nil)
	if err != nil || res.Unchanged != len(files) || res.Files != 0 {
		t.Errorf("second put: %+v %v", res, err)
	}
	back := filepath.Join(t.TempDir(), "back")
	res, err = c.Get(t.Context(), dst, back, nil)
	if err != nil || res.Files != len(files) {
		t.Fatalf("get tree: %+v %v", res, err)
	}
	if got, want := listTree(t, back), listTree(t, src); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tree differs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRealProxyJump(t *testing.T) {
	t.Parallel()
	jump := sshtest.StartSSHD(t)
	target := sshtest.StartSSHD(t)
	dir := t.TempDir()
	kh := writeFile(t, filepath.Join(dir, "known_hosts"), readFile(t, jump.KnownHosts)+readFile(t, target.KnownHosts))
	cfgFile := writeFile(t, filepath.Join(dir, "config"), fmt.Sprintf(`
Host jump
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s

Host target
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
  ProxyJump jump
  UserKnownHostsFile %s
`, jump.Port, jump.User, jump.KeyFile, target.Port, target.User, target.KeyFile, kh))
	var dialer recordingDialer
	cfg := &Config{
		SSHConfig:       cfgFile,
		AgentSocket:     "none",
		KnownHostsFiles: []string{kh},
		DialContext:     dialer.DialContext,
	}
	c, err := Dial(t.Context(), "target", cfg)
	if err != nil {
		t.Fatalf("%v\njump log:\n%s", err, jump.Log())
	}
	defer c.Close()
	res, err := c.Run(t.Context(), &runner.Cmd{Command: "echo through"})
	if err != nil || string(res.Stdout) != "through\n" {
		t.Fatalf("%q %v", res.Stdout, err)
	}
	if dialed := dialer.addrs(); len(dialed) != 1 || dialed[0] != jump.Addr {
		t.Errorf("dialed %v directly; only the jump host %s should be", dialed, jump.Addr)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startAgent runs `ssh-agent -D -a SOCK` and returns the socket.
func startAgent(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("ssh-agent")
	if err != nil {
		sshtest.MissingPeer(t, "ssh-agent is not installed")
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command(bin, "-D", "-a", sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// It prints "SSH_AUTH_SOCK=...; export SSH_AUTH_SOCK;" once listening.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, sock) {
		t.Fatalf("ssh-agent said %q: %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return sock
}

func TestRealAgent(t *testing.T) {
	d := sshtest.StartSSHD(t)
	sock := startAgent(t)
	add := exec.Command("ssh-add", d.KeyFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	// No key files anywhere: only the agent can authenticate.
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", sock)
	cfg := &Config{SSHConfig: "none", KnownHostsFiles: []string{d.KnownHosts}}
	c := dialReal(t, d, cfg)
	if _, err := c.Run(t.Context(), &runner.Cmd{Command: "true"}); err != nil {
		t.Fatal(err)
	}
	// And with the agent turned off, it cannot.
	cfg.AgentSocket = "none"
	if c, err := Dial(t.Context(), d.User+"@"+d.Addr, cfg); err == nil {
		c.Close()
		t.Fatal("authenticated without the agent")
	}
}

func TestRealAcceptNewWritesWhatOpenSSHReads(t *testing.T) {
	t.Parallel()
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		sshtest.MissingPeer(t, "the OpenSSH client ssh is not installed")
	}
	d := sshtest.StartSSHD(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	cfg := realConfig(d)
	cfg.KnownHostsFiles = []string{kh}

	if _, err := Dial(t.Context(), d.User+"@"+d.Addr, cfg); err == nil {
		t.Fatal("connected to an unknown host without AcceptNew")
	}
	cfg.AcceptNew = true
	c := dialReal(t, d, cfg)
	c.Close()

	out, err := exec.Command(ssh, "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+kh,
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-i", d.KeyFile, "-p", fmt.Sprint(d.Port), d.User+"@127.0.0.1", "true").CombinedOutput()
	if err != nil {
		t.Fatalf("OpenSSH rejects the recorded key: %v\n%s\nknown_hosts:\n%s", err, out, readFile(t, kh))
	}
}
