package cli_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// A host reached through ssh_config's ProxyCommand (nc, as people write
// it), with the command's stderr shown.
func TestRemoteProxyCommand(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nc"); err != nil {
		sshtest.MissingPeer(t, "nc (netcat-openbsd) is not installed")
	}
	s := newSSH(t, sshtest.SSHDOptions{}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host viaproxy\n  HostName 127.0.0.1\n  Port %d\n  User %s\n"+
			"  ProxyCommand echo proxy-for-%%n >&2; exec nc %%h %%p\n", d.Port, d.User)
	})
	file := writeTasks(t, "[tasks.hi]\nrun = 'echo hi from $(whoami)'\n")
	o := s.run(t, file, "-H", "viaproxy", "hi")
	if o.code != 0 || !strings.Contains(o.stdout, "hi from "+s.d.User) {
		t.Fatalf("exit %d, stdout %q; want hi from %s", o.code, o.stdout, s.d.User)
	}
	if !strings.Contains(o.stderr, "proxy-for-viaproxy") {
		t.Errorf("the ProxyCommand's stderr is not shown: %q", o.stderr)
	}
}

// startAgent runs ssh-agent on a socket of its own, holding key.
func startAgent(t *testing.T, key string) string {
	t.Helper()
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		sshtest.MissingPeer(t, "ssh-agent is not installed")
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	cmd := exec.Command("ssh-agent", "-D", "-a", sock)
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
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || !strings.Contains(line, sock) {
		t.Fatalf("ssh-agent said %q: %v", line, err)
	}
	go io.Copy(io.Discard, out)
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	return sock
}

// ForwardAgent yes in ssh_config forwards the agent only with
// --forward-agent.
func TestRemoteForwardAgent(t *testing.T) {
	s := newSSH(t, sshtest.SSHDOptions{}, func(d *sshtest.SSHD) string {
		return "Host web\n  ForwardAgent yes\n"
	}, "web")
	t.Setenv("SSH_AUTH_SOCK", startAgent(t, s.d.KeyFile))
	file := writeTasks(t, "[tasks.keys]\nrun = 'ssh-add -l'\n")

	o := s.run(t, file, "-H", "web", "keys")
	if o.code == 0 || strings.Contains(o.stdout, "SHA256:") {
		t.Errorf("without --forward-agent the host saw the agent: exit %d, %q", o.code, o.stdout)
	}
	o = s.run(t, file, "--forward-agent", "-H", "web", "keys")
	if o.code != 0 || !strings.Contains(o.stdout, "SHA256:") {
		t.Errorf("with --forward-agent: exit %d, %q; want the agent's key listed", o.code, o.stdout)
	}
}

// forward_agent = true on a task forwards the agent to that task's
// commands only, without --forward-agent or ssh_config, and not to the
// other tasks of the run on the same connection.
func TestRemoteTaskForwardAgent(t *testing.T) {
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "web")
	t.Setenv("SSH_AUTH_SOCK", startAgent(t, s.d.KeyFile))
	file := writeTasks(t, `
[tasks.with]
hosts = ["web"]
forward_agent = true
run = 'ssh-add -l | sed "s/^/with: /"'

[tasks.without]
hosts = ["web"]
deps = ["with"]
run = 'ssh-add -l >/dev/null 2>&1 && echo "without: agent" || echo "without: none"'
`)
	o := s.run(t, file, "without")
	if o.code != 0 || !strings.Contains(o.stdout, "with: ") || !strings.Contains(o.stdout, "SHA256:") {
		t.Errorf("exit %d, %q; want the agent's key listed by the forward_agent task", o.code, o.stdout)
	}
	if !strings.Contains(o.stdout, "without: none") {
		t.Errorf("a task without forward_agent saw the agent: %q", o.stdout)
	}
}
