package remote

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// testMux runs a mux in this process, in a directory of the test's, and
// returns a Config whose connections go through it.
func testMux(t *testing.T, srv *sshtest.Server) *Config {
	t.Helper()
	return withMux(t, testConfig(t, srv))
}

// withMux runs a mux in this process and sets cfg to use it.
func withMux(t *testing.T, cfg *Config) *Config {
	t.Helper()
	cfg, _ = withMuxServer(t, cfg)
	return cfg
}

// withMuxServer is withMux, returning the mux too.
func withMuxServer(t *testing.T, cfg *Config) (*Config, *Mux) {
	t.Helper()
	dir, err := os.MkdirTemp("", "gm") // short: a socket path fits in 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	m, err := ListenMux(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); m.Serve(ctx, time.Hour, nil) }()
	t.Cleanup(func() { cancel(); <-served })
	cfg.Persist = &Persist{Dir: dir, Idle: time.Hour}
	return cfg, m
}

// TestMuxCommandsEndingAtOnce: a command that ends as soon as it starts
// gets its exit status through the mux, every time. The host's reply to
// "exec", its exit-status and its close come in one burst; the mux once
// closed the run's channel before passing the reply on, and the run saw
// EOF for a command that had run.
func TestMuxCommandsEndingAtOnce(t *testing.T) {
	t.Parallel()
	// The handler ends the command at once: no shell to start.
	srv := sshtest.Start(t, sshtest.Options{Handler: func(*sshtest.Session) int { return 7 }})
	cfg := testMux(t, srv)
	// Fifty at once, as a run on fifty hosts: the mux is busy.
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				c, err := Dial(t.Context(), srv.Addr, cfg)
				if err != nil {
					t.Errorf("dial %d.%d: %v", g, i, err)
					return
				}
				res, err := c.Run(t.Context(), &runner.Cmd{Command: "exit 7"})
				c.Close()
				var ee *runner.ExitError
				if res == nil || res.ExitCode != 7 || !errors.As(err, &ee) {
					t.Errorf("command %d.%d: result %+v, err %v; want exit 7", g, i, res, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Fifty, or a few more when a dial overtakes the mux's release of
	// the connection a run just closed.
	if n := srv.Connections(); n > 100 {
		t.Errorf("the server saw %d connections for 500 runs through the mux, want the mux's fifty or so", n)
	}
}

// TestMuxRunsLikeDirect: exit codes, signals and both streams come
// through the mux as they do directly.
func TestMuxRunsLikeDirect(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	c := dial(t, srv, testMux(t, srv))
	tests := []struct {
		command        string
		code           int
		stdout, stderr string
		signal         string
	}{
		{command: "echo out; echo err >&2", stdout: "out\n", stderr: "err\n"},
		{command: "echo partial; exit 3", code: 3, stdout: "partial\n"},
		{command: "kill -TERM $$", code: 128 + 15, signal: "terminated"},
		{command: "head -c 300000 /dev/zero | tr '\\0' x", stdout: string(bytes.Repeat([]byte("x"), 300000))},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		res, err := c.Run(t.Context(), &runner.Cmd{Command: tt.command, Stdout: &out, Stderr: &errOut})
		if res == nil || res.ExitCode != tt.code {
			t.Fatalf("%s: result %+v, err %v; want exit %d", tt.command, res, err, tt.code)
		}
		var ee *runner.ExitError
		if tt.code != 0 && (!errors.As(err, &ee) || ee.Signal != tt.signal) {
			t.Errorf("%s: err %#v, want an ExitError with signal %q", tt.command, err, tt.signal)
		}
		if out.String() != tt.stdout || errOut.String() != tt.stderr {
			t.Errorf("%s: stdout %d bytes, stderr %q; want %d bytes, %q", tt.command, out.Len(), errOut.String(), len(tt.stdout), tt.stderr)
		}
	}
}

func TestControlPersist(t *testing.T) {
	tests := []struct {
		in   string
		d    time.Duration
		on   bool
		fail bool
	}{
		{in: ""}, {in: "no"}, {in: "yes", on: true}, {in: "0", on: true},
		{in: "600", d: 10 * time.Minute, on: true}, {in: "10m", d: 10 * time.Minute, on: true},
		{in: "soon", fail: true}, {in: "-5m", fail: true},
	}
	for _, tt := range tests {
		d, on, err := controlPersist(tt.in)
		if (err != nil) != tt.fail || d != tt.d || on != tt.on {
			t.Errorf("controlPersist(%q) = %v, %v, %v; want %v, %v, error %v", tt.in, d, on, err, tt.d, tt.on, tt.fail)
		}
	}
}

// TestRealMuxTunnels: a forward tunnel goes through the mux like a
// session; a reverse one takes a connection of its own, outside the mux,
// as the host's listener must not outlive the run. Both carry traffic.
func TestRealMuxTunnels(t *testing.T) {
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, withMux(t, realConfig(d)))
	target := sshtest.EchoServer(t).String()
	for _, dir := range []string{"forward", "reverse"} {
		port := freePort(t)
		open := c.Forward
		if dir == "reverse" {
			open = c.Reverse
		}
		tun, err := open(t.Context(), port, target)
		if err != nil {
			t.Fatalf("%s: %v\nsshd log:\n%s", dir, err, d.Log())
		}
		if got := roundTrip(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir); got != "echo: "+dir {
			t.Errorf("%s: got %q through the tunnel", dir, got)
		}
		tun.Close()
	}
	if _, err := c.Run(t.Context(), &runner.Cmd{Command: "true"}); err != nil {
		t.Fatal(err)
	}
}

// waitKept waits until the mux keeps n connections no run uses: a run's
// connection it has let go of is ready for the next run.
func waitKept(t *testing.T, m *Mux, n int) {
	t.Helper()
	for {
		m.mu.Lock()
		kept := 0
		for _, list := range m.free {
			kept += len(list)
		}
		m.mu.Unlock()
		if kept >= n {
			return
		}
		// Bounded by the test's timeout.
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRealMuxKnowsLoginShell: a run through a kept connection starts
// with what the runs before it learnt of the login shell, so its first
// command costs the host no extra sh for the process id report (one sh
// a host a run, a fork and exec on every host of every second run).
func TestRealMuxKnowsLoginShell(t *testing.T) {
	d := sshtest.StartSSHD(t)
	cfg, m := withMuxServer(t, realConfig(d))
	// What the login shell was asked to run, as the kernel has it.
	const show = "tr '\\0' ' ' < /proc/$$/cmdline"
	firstLine := func(c *Client) string {
		var out bytes.Buffer
		if _, err := c.Run(t.Context(), &runner.Cmd{Command: show, Stdout: &out}); err != nil {
			t.Fatalf("%v\nsshd log:\n%s", err, d.Log())
		}
		return out.String()
	}
	c1 := dialReal(t, d, cfg)
	if got := firstLine(c1); !strings.Contains(got, "sh -c 'echo "+pidTag) {
		t.Fatalf("a new connection's first command line is %q; want the sh that names the login shell", got)
	}
	c1.Close()
	waitKept(t, m, 1)

	c2 := dialReal(t, d, cfg)
	got := firstLine(c2)
	if strings.Contains(got, "sh -c 'echo") || !strings.Contains(got, "echo "+pidTag) {
		t.Errorf("the next run's first command line is %q; want the login shell's own echo, without sh", got)
	}
	if n := strings.Count(d.Log(), "Accepted publickey"); n != 1 {
		t.Errorf("sshd accepted %d logins, want the mux's one", n)
	}
}

// TestMuxShellHint: the mux takes what a run learnt of the login shell
// only for the host the run is connected to, only as one of the kinds it
// knows, and never passes the request on to a host.
func TestMuxShellHint(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	cfg := testMux(t, srv)
	mc, err := openMux(t.Context(), cfg.Persist, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	if ok, _, err := mc.SendRequest(muxShellReq, true, []byte("posix")); ok || err != nil {
		t.Errorf("a shell hint before any host: ok %v, err %v; want refused", ok, err)
	}
	c := dial(t, srv, cfg)
	if _, err := c.Run(t.Context(), &runner.Cmd{Command: "true"}); err != nil {
		t.Fatal(err)
	}
	cn := c.conns[0]
	for _, bad := range []string{"", "fish", "posix\x00", strings.Repeat("x", 100)} {
		if ok, _, err := cn.client.SendRequest(muxShellReq, true, []byte(bad)); ok || err != nil {
			t.Errorf("shell hint %q: ok %v, err %v; want refused", bad, ok, err)
		}
	}
	if ok, _, err := cn.client.SendRequest(muxShellReq, true, []byte("posix")); !ok || err != nil {
		t.Errorf("shell hint posix: ok %v, err %v; want taken", ok, err)
	}
	if n := srv.GlobalRequests(muxShellReq); n != 0 {
		t.Errorf("the host got %d %s requests, want none", n, muxShellReq)
	}
}
