package remote

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
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// fakeProxy plays a ProxyCommand, invoked as "HOST PORT": it connects
// there and copies stdin to the connection and the connection to stdout.
// It writes its pid to pidFile, says on stderr where it connects, and
// does not exit when its stdin ends: only a signal ends it, so a test
// sees whether the connection's end kills it.
func fakeProxy(pidFile string, args []string) int {
	if len(args) != 2 {
		fmt.Fprintf(os.Stderr, "fake proxy: want HOST PORT, got %q\n", args)
		return 2
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "fake proxy: connecting to %s port %s\n", args[0], args[1])
	c, err := net.Dial("tcp", net.JoinHostPort(args[0], args[1]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake proxy:", err)
		return 1
	}
	go io.Copy(c, os.Stdin)
	io.Copy(os.Stdout, c)
	select {} // linger until signalled
}

// lockedBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRealProxyCommand(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "proxy.pid")
	cfgFile := writeFile(t, filepath.Join(dir, "config"), fmt.Sprintf(`
Host target
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
  ProxyCommand env GOTASK_TEST_PROXY=1 GOTASK_TEST_PROXY_PID='%s' '%s' %%h %%p
`, d.Port, d.User, d.KeyFile, pidFile, os.Args[0]))
	var dialer recordingDialer
	var stderr lockedBuffer
	cfg := &Config{
		SSHConfig:       cfgFile,
		AgentSocket:     "none",
		KnownHostsFiles: []string{d.KnownHosts},
		DialContext:     dialer.DialContext,
		ProxyStderr:     &stderr,
	}
	c, err := Dial(t.Context(), "target", cfg)
	if err != nil {
		t.Fatalf("%v\nsshd log:\n%s", err, d.Log())
	}
	t.Cleanup(func() { c.Close() })
	res, err := c.Run(t.Context(), &runner.Cmd{Command: "echo through"})
	if err != nil || string(res.Stdout) != "through\n" {
		t.Fatalf("%q %v", res.Stdout, err)
	}
	if dialed := dialer.addrs(); len(dialed) != 0 {
		t.Errorf("dialed %v directly; the ProxyCommand should carry the connection", dialed)
	}
	if want := "fake proxy: connecting to 127.0.0.1 port " + strconv.Itoa(d.Port); !strings.Contains(stderr.String(), want) {
		t.Errorf("ProxyStderr got %q, want %q", stderr.String(), want)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(b))
	c.Close()
	if left := waitGone([]int{pid}); len(left) > 0 {
		t.Fatalf("the ProxyCommand (pid %d) still runs after its connection closed", pid)
	}
}

func TestRealProxyCommandNetcat(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("nc"); err != nil {
		sshtest.MissingPeer(t, "nc (netcat-openbsd) is not installed")
	}
	d := sshtest.StartSSHD(t)
	dir := t.TempDir()
	cfgFile := writeFile(t, filepath.Join(dir, "config"), fmt.Sprintf(`
Host target
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
  ProxyCommand nc 127.0.0.1 %%p
`, d.Port, d.User, d.KeyFile))
	var dialer recordingDialer
	cfg := &Config{SSHConfig: cfgFile, AgentSocket: "none", KnownHostsFiles: []string{d.KnownHosts}, DialContext: dialer.DialContext}
	c, err := Dial(t.Context(), "target", cfg)
	if err != nil {
		t.Fatalf("%v\nsshd log:\n%s", err, d.Log())
	}
	defer c.Close()
	res, err := c.Run(t.Context(), &runner.Cmd{Command: "echo via nc"})
	if err != nil || string(res.Stdout) != "via nc\n" {
		t.Fatalf("%q %v", res.Stdout, err)
	}
	if dialed := dialer.addrs(); len(dialed) != 0 {
		t.Errorf("dialed %v directly; nc should carry the connection", dialed)
	}
}

// A host name, alias or user that reaches a ProxyCommand's %h %n %r is
// never shell code: ssh pastes it in raw, gotask refuses it.
func TestProxyCommandTokensAreNotCode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	evil := []struct{ name, config, host, want string }{
		{"HostName", "Host t\n  HostName \"x$(touch " + pwned + ")\"\n  ProxyCommand echo %h\n", "t", "not safe to hand to the shell"},
		{"HostName with ;", "Host t\n  HostName 'x;touch " + pwned + "'\n  ProxyCommand echo %h %p\n", "t", "not safe to hand to the shell"},
		{"HostName with backquote", "Host t\n  HostName x`touch${IFS}" + pwned + "`\n  ProxyCommand echo %h\n", "t", "not safe to hand to the shell"},
		{"User", "Host t\n  User \"u'; touch " + pwned + "; '\"\n  ProxyCommand echo '%r'\n", "t", "not safe to hand to the shell"},
		{"User in the host string", "Host *\n  ProxyCommand echo %r\n", "u|touch" + "@t", "not safe to hand to the shell"},
		{"alias", "Host *\n  ProxyCommand echo %n\n", "t&touch", "not safe to hand to the shell"},
	}
	for i, tc := range evil {
		t.Run(tc.name, func(t *testing.T) {
			cfgFile := writeFile(t, filepath.Join(dir, fmt.Sprint(i)), tc.config)
			cfg := &Config{SSHConfig: cfgFile, AgentSocket: "none", KnownHostsFiles: []string{filepath.Join(dir, "kh")}}
			c, err := Dial(t.Context(), tc.host, cfg)
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			if _, serr := os.Stat(pwned); serr == nil {
				t.Fatalf("the value ran as code: %s exists (error: %v)", pwned, err)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say what is wrong", err)
			}
		})
	}
}

func TestProxyCommandLine(t *testing.T) {
	tok := tokens{alias: "web", host: "10.0.0.1", port: 2222, user: "deploy"}
	for _, tc := range []struct{ in, want, wantErr string }{
		{in: "nc -X 5 -x proxy:1080 %h %p", want: "nc -X 5 -x proxy:1080 10.0.0.1 2222"},
		{in: "ssm %n as %r, 100%%", want: "ssm web as deploy, 100%"},
		{in: "trailing %", want: "trailing %"},
		{in: "nc %d", wantErr: "unknown token %d"},
	} {
		got, err := proxyCommandLine(tc.in, tok)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: got %q, %v; want error %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// A ProxyCommand that fails: the error says so, with what it printed.
func TestProxyCommandFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgFile := writeFile(t, filepath.Join(dir, "config"),
		"Host t\n  ProxyCommand echo 'bastion says no route to %h' >&2; exit 3\n")
	cfg := &Config{SSHConfig: cfgFile, AgentSocket: "none", KnownHostsFiles: []string{filepath.Join(dir, "kh")}}
	c, err := Dial(t.Context(), "t", cfg)
	if err == nil {
		c.Close()
		t.Fatal("connected")
	}
	for _, want := range []string{"bastion says no route to t", "exit status 3", "ProxyCommand"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
