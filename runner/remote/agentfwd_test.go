package remote

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// The agent reaches a host only when both ssh_config says ForwardAgent
// yes and Config.ForwardAgent (--forward-agent) allows it; the host then
// lists the agent's keys with ssh-add -l.
func TestRealForwardAgent(t *testing.T) {
	if _, err := exec.LookPath("ssh-add"); err != nil {
		sshtest.MissingPeer(t, "ssh-add is not installed")
	}
	d := sshtest.StartSSHD(t)
	sock := startAgent(t)
	add := exec.Command("ssh-add", d.KeyFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	list := exec.Command("ssh-add", "-l")
	list.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	out, err := list.Output()
	if err != nil {
		t.Fatalf("ssh-add -l: %v", err)
	}
	fingerprint := strings.Fields(string(out))[1]

	dir := t.TempDir()
	cfgFile := writeFile(t, filepath.Join(dir, "config"), fmt.Sprintf(`
Host fwd nofwd
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
Host fwd
  ForwardAgent yes
`, d.Port, d.User, d.KeyFile))
	listOnHost := func(t *testing.T, host string, allow bool) (string, error) {
		t.Helper()
		cfg := &Config{SSHConfig: cfgFile, AgentSocket: sock, KnownHostsFiles: []string{d.KnownHosts}, ForwardAgent: allow}
		c, err := Dial(t.Context(), host, cfg)
		if err != nil {
			t.Fatalf("%v\nsshd log:\n%s", err, d.Log())
		}
		defer c.Close()
		res, err := c.Run(t.Context(), &runner.Cmd{Command: `echo "sock=[$SSH_AUTH_SOCK]"; ssh-add -l`})
		return string(res.Stdout), err
	}

	t.Run("ForwardAgent yes and allowed", func(t *testing.T) {
		got, err := listOnHost(t, "fwd", true)
		if err != nil || !strings.Contains(got, fingerprint) {
			t.Errorf("ssh-add -l on the host: %q, %v; want the key %s", got, err, fingerprint)
		}
	})
	t.Run("ForwardAgent yes, not allowed: never by default", func(t *testing.T) {
		got, err := listOnHost(t, "fwd", false)
		if err == nil || strings.Contains(got, fingerprint) || !strings.Contains(got, "sock=[]") {
			t.Errorf("the agent reached the host without --forward-agent: %q, %v", got, err)
		}
	})
	t.Run("allowed, but ssh_config does not ask", func(t *testing.T) {
		got, err := listOnHost(t, "nofwd", true)
		if err == nil || strings.Contains(got, fingerprint) || !strings.Contains(got, "sock=[]") {
			t.Errorf("the agent reached a host without ForwardAgent yes: %q, %v", got, err)
		}
	})
}

func TestForwardAgentValue(t *testing.T) {
	dir := t.TempDir()
	cfgFile := writeFile(t, filepath.Join(dir, "config"), "Host t\n  ForwardAgent ~/other.sock\n")
	cfg := &Config{SSHConfig: cfgFile, AgentSocket: "none", ForwardAgent: true}
	_, err := Dial(t.Context(), "t", cfg)
	if err == nil || !strings.Contains(err.Error(), "config:2:") || !strings.Contains(err.Error(), "gotask takes yes or no") {
		t.Errorf("got %v; want an error at config:2 saying yes or no", err)
	}
}

// Cmd.ForwardAgent forwards the agent to that command; a later command
// without it, on the same Client, must not find it: sshd offers a
// forwarded agent to every later session of a connection.
func TestRealForwardAgentPerCommand(t *testing.T) {
	d := sshtest.StartSSHD(t)
	sock := startAgent(t)
	add := exec.Command("ssh-add", d.KeyFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	cfg := realConfig(d)
	cfg.AgentSocket = sock
	c := dialReal(t, d, cfg)
	list := `ssh-add -l >/dev/null 2>&1 && echo agent || echo none`
	for i, want := range []struct {
		forward bool
		out     string
	}{{false, "none"}, {true, "agent"}, {false, "none"}, {true, "agent"}} {
		res, err := c.Run(t.Context(), &runner.Cmd{Command: list, ForwardAgent: want.forward})
		if err != nil {
			t.Fatalf("command %d (ForwardAgent %v): %v", i, want.forward, err)
		}
		if strings.TrimSpace(string(res.Stdout)) != want.out {
			t.Errorf("command %d (ForwardAgent %v): %q, %v; want %s", i, want.forward, res.Stdout, err, want.out)
		}
	}
	if n := c.Conns(); n != 2 {
		t.Errorf("%d connections; want 2: one with the agent, one without", n)
	}
}
