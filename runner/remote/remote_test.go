package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// testConfig connects to srv with its client key and a known_hosts file
// listing all its host keys, ignoring the user's own SSH setup.

// hangGuard bounds what a test waits for, only so that a broken
// mechanism fails the test rather than hanging it: far beyond what the
// slowest machine needs. No test asserts how long anything took.
const hangGuard = 2 * time.Minute

func testConfig(t *testing.T, srv *sshtest.Server) *Config {
	t.Helper()
	return &Config{
		SSHConfig:       "none",
		AgentSocket:     "none",
		IdentityFiles:   []string{srv.ClientKeyFile},
		KnownHostsFiles: []string{srv.WriteKnownHosts(t)},
		StopGrace:       300 * time.Millisecond,
	}
}

func dial(t *testing.T, srv *sshtest.Server, cfg *Config) *Client {
	t.Helper()
	if cfg == nil {
		cfg = testConfig(t, srv)
	}
	c, err := Dial(t.Context(), srv.Addr, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRunExitCodesAndStreams(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	c := dial(t, srv, nil)
	tests := []struct {
		command    string
		code       int
		stdout     string
		stderr     string
		wantSignal string
	}{
		{command: "true"},
		{command: "echo out; echo err >&2", stdout: "out\n", stderr: "err\n"},
		{command: "echo partial; exit 3", code: 3, stdout: "partial\n"},
		{command: "exit 255", code: 255},
		{command: "printf 'no newline'", stdout: "no newline"},
		{command: "kill -TERM $$", code: 128 + 15, wantSignal: "terminated"},
		{command: "no-such-command-gotask 2>/dev/null", code: 127},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			var out, errOut bytes.Buffer
			res, err := c.Run(t.Context(), &runner.Cmd{Command: tt.command, Stdout: &out, Stderr: &errOut})
			if res == nil {
				t.Fatalf("nil result, err %v", err)
			}
			if res.Host != srv.Addr {
				t.Errorf("Host = %q, want %q", res.Host, srv.Addr)
			}
			if res.ExitCode != tt.code {
				t.Errorf("ExitCode = %d, want %d", res.ExitCode, tt.code)
			}
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			} else {
				var ee *runner.ExitError
				if !errors.As(err, &ee) || ee.Code != tt.code || ee.Host != srv.Addr || ee.Signal != tt.wantSignal {
					t.Fatalf("err = %#v, want ExitError code %d signal %q on %s", err, tt.code, tt.wantSignal, srv.Addr)
				}
			}
			if string(res.Stdout) != tt.stdout || out.String() != tt.stdout {
				t.Errorf("stdout: captured %q, streamed %q, want %q", res.Stdout, out.String(), tt.stdout)
			}
			if string(res.Stderr) != tt.stderr || errOut.String() != tt.stderr {
				t.Errorf("stderr: captured %q, streamed %q, want %q", res.Stderr, errOut.String(), tt.stderr)
			}
		})
	}
}

// One writer for both streams, as os/exec allows: no concurrent Writes
// (the race detector would see them in bytes.Buffer).
func TestRunSharedWriter(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	c := dial(t, srv, nil)
	var both bytes.Buffer
	_, err := c.Run(t.Context(), &runner.Cmd{
		Command: "for i in 1 2 3 4 5 6 7 8 9 10; do echo out$i; echo err$i >&2; done",
		Stdout:  &both, Stderr: &both,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		if !strings.Contains(both.String(), fmt.Sprintf("out%d\n", i)) || !strings.Contains(both.String(), fmt.Sprintf("err%d\n", i)) {
			t.Fatalf("output %q misses line %d", both.String(), i)
		}
	}
}

func TestRunCaptureAndTrailingBytes(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	c := dial(t, srv, nil)
	// 3 MB then a marker, then an immediate exit: nothing may be lost.
	const n = 3 << 20
	command := fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x; printf END; printf E2 >&2", n)
	tests := []struct {
		capture       int
		wantCaptured  int
		wantTruncated bool
	}{
		{capture: runner.DefaultCapture, wantCaptured: n + 3},
		{capture: 0, wantCaptured: runner.TailCapture, wantTruncated: true}, // the tail, with the marker
		{capture: 1000, wantCaptured: 1000, wantTruncated: true},
		{capture: -1, wantCaptured: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.capture), func(t *testing.T) {
			var out bytes.Buffer
			res, err := c.Run(t.Context(), &runner.Cmd{Command: command, Stdout: &out, Capture: tt.capture})
			if err != nil {
				t.Fatal(err)
			}
			if out.Len() != n+3 || !strings.HasSuffix(out.String(), "xEND") {
				t.Fatalf("streamed %d bytes ending %q, want %d ending xEND", out.Len(), out.String()[max(0, out.Len()-8):], n+3)
			}
			if len(res.Stdout) != tt.wantCaptured || res.Truncated != tt.wantTruncated {
				t.Errorf("captured %d truncated %v, want %d %v", len(res.Stdout), res.Truncated, tt.wantCaptured, tt.wantTruncated)
			}
			if tt.capture == 0 && !bytes.HasSuffix(res.Stdout, []byte("xEND")) {
				t.Errorf("the default capture ends %q, not with the last bytes", res.Stdout[max(0, len(res.Stdout)-8):])
			}
			if tt.capture >= 0 && string(res.Stderr) != "E2" {
				t.Errorf("stderr %q", res.Stderr)
			}
		})
	}
}

// signalWriter closes seen the first time the output contains want.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newSignalWriter(want string) *signalWriter {
	return &signalWriter{want: want, seen: make(chan struct{})}
}

func (w *signalWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(b), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestRunStreamsLive(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := sshtest.Start(t, sshtest.Options{Handler: func(s *sshtest.Session) int {
		io.WriteString(s.Stdout, "first\n")
		select {
		case <-release:
			io.WriteString(s.Stdout, "second\n")
			return 0
		case <-time.After(hangGuard):
			io.WriteString(s.Stdout, "never released\n")
			return 1
		}
	}})
	c := dial(t, srv, nil)
	w := newSignalWriter("first\n")
	go func() {
		<-w.seen // only reachable if "first" arrives while the command runs
		close(release)
	}()
	res, err := c.Run(t.Context(), &runner.Cmd{Command: "x", Stdout: w})
	if err != nil || string(res.Stdout) != "first\nsecond\n" {
		t.Fatalf("got %q, %v; output was not streamed while the command ran", res.Stdout, err)
	}
}

func TestRunEnvAndDirQuoting(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	c := dial(t, srv, nil)
	evil := []string{"$(touch pwned)", "`touch pwned`", "; touch pwned", "a'b\"c", "line1\nline2", "", "*", "~", "-n"}
	for i, v := range evil {
		t.Run(fmt.Sprintf("env %d", i), func(t *testing.T) {
			res, err := c.Run(t.Context(), &runner.Cmd{
				Command: `printf '%s|%s' "$V" "$W"`,
				Env:     []string{"V=" + v, "W=first", "W=later wins"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := v + "|later wins"; string(res.Stdout) != want {
				t.Errorf("got %q, want %q", res.Stdout, want)
			}
		})
	}
	dirs := []struct{ dir, want string }{
		{"sub dir/$(touch pwned)", filepath.Join(srv.Home, "sub dir/$(touch pwned)")},
		{"~/it's here", filepath.Join(srv.Home, "it's here")},
		{"~", srv.Home},
		{filepath.Join(srv.Home, "a;b"), filepath.Join(srv.Home, "a;b")},
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d.want, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range dirs {
		t.Run("dir "+d.dir, func(t *testing.T) {
			res, err := c.Run(t.Context(), &runner.Cmd{Command: "pwd", Dir: d.dir, Env: []string{"X=1"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(res.Stdout)); got != d.want {
				t.Errorf("pwd = %q, want %q", got, d.want)
			}
		})
	}
	t.Run("nothing was executed", func(t *testing.T) {
		err := filepath.Walk(srv.Home, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Name() == "pwned" {
				return fmt.Errorf("found %s", p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad env name refused before running", func(t *testing.T) {
		for _, kv := range []string{"NOEQUALS", "=x", "A B=1", "1A=2", "$(x)=1"} {
			if _, err := c.Run(t.Context(), &runner.Cmd{Command: "true", Env: []string{kv}}); err == nil {
				t.Errorf("env %q accepted", kv)
			}
		}
	})
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	c := dial(t, srv, nil)
	tests := []struct {
		name     string
		pty      runner.PtyMode
		command  string
		wantOut  string // proves the signal reached the command
		wantCode int
	}{
		// A timeout terminates (TERM), as the local runner's does; the
		// group is killed after the grace period.
		{"pipes: terminate", runner.PtyOff, "trap 'echo got-term; exit 7' TERM; echo ready; sleep 3600 & wait", "got-term", 7},
		{"pty: terminate", runner.PtyOn, "trap 'echo got-term; exit 7' TERM; echo ready; sleep 3600 & wait", "got-term", 7},
		{"pipes: ignores TERM, killed", runner.PtyOff, "trap '' TERM; echo ready; sleep 3600", "", 128 + 9},
		{"pty: ignores TERM, killed", runner.PtyOn, "trap '' TERM; echo ready; sleep 3600", "", 128 + 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The commands never end by themselves: only the stop can end
			// Run with a timed-out error before the hang guard cancels it.
			ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
			defer cancel()
			res, err := c.Run(ctx, &runner.Cmd{Command: tt.command, Pty: tt.pty, Timeout: 500 * time.Millisecond})
			var ee *runner.ExitError
			if !errors.As(err, &ee) || !ee.TimedOut || ee.Timeout != 500*time.Millisecond || ee.Host != srv.Addr {
				t.Fatalf("err = %v, want a timed-out ExitError", err)
			}
			if !strings.Contains(string(res.Stdout), tt.wantOut) {
				t.Errorf("stdout %q does not contain %q", res.Stdout, tt.wantOut)
			}
			if tt.wantCode != -1 && res.ExitCode != tt.wantCode {
				t.Errorf("exit code %d, want %d", res.ExitCode, tt.wantCode)
			}
		})
	}
}

func TestRunContextCancel(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	c := dial(t, srv, nil)
	for _, pty := range []runner.PtyMode{runner.PtyOff, runner.PtyOn} {
		t.Run(fmt.Sprint(pty), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			w := newSignalWriter("ready")
			go func() {
				<-w.seen
				cancel()
			}()
			res, err := c.Run(ctx, &runner.Cmd{Command: "trap 'echo got-int; exit 9' INT; echo ready; sleep 30 & wait", Stdout: w, Pty: pty})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			var ee *runner.ExitError
			if !errors.As(err, &ee) || ee.Signal != "interrupt" {
				t.Errorf("err = %v, want an ExitError with Signal interrupt", err)
			}
			if res == nil || !strings.Contains(string(res.Stdout), "got-int") {
				t.Errorf("result %+v: the interrupt did not reach the command", res)
			}
		})
	}
}

func TestRunOutcomeUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     sshtest.Options
		cfg      func(*Config)
		wantText string
	}{
		{
			name:     "no exit status",
			opts:     sshtest.Options{NoExitStatus: true, Handler: func(s *sshtest.Session) int { io.WriteString(s.Stdout, "did it\n"); return 0 }},
			wantText: "without an exit status",
		},
		{
			name: "connection dropped mid-command",
			opts: sshtest.Options{Handler: func(s *sshtest.Session) int {
				io.WriteString(s.Stdout, "did it\n")
				s.DropConnection()
				return 0
			}},
			wantText: "connection",
		},
		{
			name: "keepalives unanswered",
			opts: sshtest.Options{IgnoreKeepalives: true, Handler: func(s *sshtest.Session) int {
				io.WriteString(s.Stdout, "did it\n")
				select {
				case <-s.Closed:
				case <-time.After(hangGuard): // then Run reports exit 0, and the test fails
				}
				return 0
			}},
			cfg:      func(c *Config) { c.KeepaliveInterval, c.KeepaliveMax = 50*time.Millisecond, 3 },
			wantText: "no reply to 3 keepalives",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := sshtest.Start(t, tt.opts)
			cfg := testConfig(t, srv)
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			c := dial(t, srv, cfg)
			res, err := c.Run(t.Context(), &runner.Cmd{Command: "x"})
			if !errors.Is(err, runner.ErrOutcomeUnknown) {
				t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
			}
			var ee *runner.ExitError
			if errors.As(err, &ee) {
				t.Errorf("err %v is also an ExitError", err)
			}
			if !strings.Contains(err.Error(), srv.Addr) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err %q should name the host and say %q", err, tt.wantText)
			}
			if res == nil || res.ExitCode != -1 || string(res.Stdout) != "did it\n" {
				t.Errorf("result %+v, want ExitCode -1 and the output so far", res)
			}
		})
	}
}

func TestReconnectAfterDrop(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{Handler: func(s *sshtest.Session) int {
		if commandOf(s.Command) == "drop" {
			s.DropConnection()
			return 0
		}
		io.WriteString(s.Stdout, "ok")
		return 0
	}})
	c := dial(t, srv, nil)
	if _, err := c.Run(t.Context(), &runner.Cmd{Command: "drop"}); !errors.Is(err, runner.ErrOutcomeUnknown) {
		t.Fatalf("drop: %v", err)
	}
	res, err := c.Run(t.Context(), &runner.Cmd{Command: "after"})
	if err != nil || string(res.Stdout) != "ok" {
		t.Fatalf("after a dropped connection: %v %v", res, err)
	}
	if srv.Connections() != 2 {
		t.Errorf("%d connections, want 2", srv.Connections())
	}
}

func TestSignalExit(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{Handler: func(s *sshtest.Session) int {
		s.ExitSignal("KILL")
		return 0
	}})
	c := dial(t, srv, nil)
	res, err := c.Run(t.Context(), &runner.Cmd{Command: "x"})
	var ee *runner.ExitError
	if !errors.As(err, &ee) || ee.Signal != "killed" || ee.Code != 137 || res.ExitCode != 137 {
		t.Fatalf("err %v res %+v, want killed 137", err, res)
	}
}

// blockingServer starts a server whose commands report on started and
// then wait for release.
func blockingServer(t *testing.T, opts sshtest.Options) (srv *sshtest.Server, started chan string, release chan struct{}) {
	started = make(chan string, 100)
	release = make(chan struct{})
	opts.Handler = func(s *sshtest.Session) int {
		started <- commandOf(s.Command)
		select {
		case <-release:
			io.WriteString(s.Stdout, "done "+commandOf(s.Command))
			return 0
		case <-time.After(hangGuard):
			return 1
		}
	}
	return sshtest.Start(t, opts), started, release
}

func TestSessionsBeyondTheBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		serverMax   int
		clientMax   int
		runs        int
		wantConns   int
		wantRefusal bool
	}{
		{name: "client bound reached: second connection", serverMax: 0, clientMax: 0, runs: 11, wantConns: 2},
		{name: "server refuses the 11th channel: second connection", serverMax: 10, clientMax: 20, runs: 11, wantConns: 2},
		{name: "server refuses at 3, client bound 10", serverMax: 3, clientMax: 10, runs: 7, wantConns: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, started, release := blockingServer(t, sshtest.Options{MaxSessions: tt.serverMax})
			cfg := testConfig(t, srv)
			cfg.MaxSessions = tt.clientMax
			c := dial(t, srv, cfg)
			errs := make(chan error, tt.runs)
			for i := 0; i < tt.runs; i++ {
				go func() {
					res, err := c.Run(t.Context(), &runner.Cmd{Command: fmt.Sprint(i)})
					if err == nil && string(res.Stdout) != fmt.Sprint("done ", i) {
						err = fmt.Errorf("run %d: output %q", i, res.Stdout)
					}
					errs <- err
				}()
			}
			timeout := time.After(hangGuard)
			for i := 0; i < tt.runs; i++ {
				select {
				case <-started:
				case <-timeout:
					t.Fatalf("only %d of %d commands started at once", i, tt.runs)
				}
			}
			close(release)
			for i := 0; i < tt.runs; i++ {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			if got := srv.Connections(); got != tt.wantConns {
				t.Errorf("%d connections, want %d", got, tt.wantConns)
			}
		})
	}
}

func TestPool(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	pool := NewPool(testConfig(t, srv))
	var wg sync.WaitGroup
	clients := make([]*Client, 8)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pool.Get(t.Context(), srv.Addr)
			if err != nil {
				t.Error(err)
				return
			}
			clients[i] = c
			if _, err := c.Run(t.Context(), &runner.Cmd{Command: "true"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, c := range clients {
		if c != clients[0] {
			t.Fatal("Get returned different clients for one host")
		}
	}
	if srv.Connections() != 1 {
		t.Errorf("%d connections for 8 concurrent steps, want 1", srv.Connections())
	}
	pool.Close()
	if _, err := clients[0].Run(t.Context(), &runner.Cmd{Command: "true"}); err == nil {
		t.Error("client still runs commands after Pool.Close")
	}
	if _, err := pool.Get(t.Context(), srv.Addr); err == nil {
		t.Error("Get works after Close")
	}
}

func TestHostKeys(t *testing.T) {
	t.Parallel()
	ca, err := sshtest.NewKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	srv := sshtest.Start(t, sshtest.Options{HostKeyTypes: []string{"ecdsa", "ed25519"}, HostCA: ca})
	other, err := sshtest.NewKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	otherLine := fmt.Sprintf("[%s]:%d %s", srv.Host, srv.Port, authorizedLine(other))
	hostPattern := fmt.Sprintf("[%s]:%d", srv.Host, srv.Port)
	tests := []struct {
		name        string
		knownHosts  string
		acceptNew   bool
		wantErr     []string
		wantChanged bool
		wantLine    int
	}{
		{name: "only ed25519 known, ecdsa preferred by the server", knownHosts: srv.KnownHostsLine("ed25519") + "\n"},
		{name: "only ecdsa known", knownHosts: srv.KnownHostsLine("ecdsa") + "\n"},
		{name: "hashed entry", knownHosts: hashedLine(srv) + "\n"},
		{name: "cert authority", knownHosts: "@cert-authority " + hostPattern + " " + authorizedLine(ca) + "\n"},
		{
			name:       "unknown host refused with fingerprint",
			knownHosts: "# nothing yet\n",
			wantErr:    []string{"not known", "SHA256:"},
		},
		{
			name:        "changed key refused naming file and line",
			knownHosts:  "# first line\n" + otherLine + "\n",
			wantErr:     []string{"HAS CHANGED", ":2", "ssh-keygen -R"},
			wantChanged: true,
			wantLine:    2,
		},
		{
			name:        "changed key refused even with accept-new",
			knownHosts:  otherLine + "\n",
			acceptNew:   true,
			wantErr:     []string{"HAS CHANGED"},
			wantChanged: true,
			wantLine:    1,
		},
		{
			name:       "revoked key refused",
			knownHosts: "@revoked * " + authorizedLine(srv.HostKeys[1]) + "\n" + srv.KnownHostsLine("ed25519") + "\n",
			wantErr:    []string{"@revoked"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kh := writeFile(t, filepath.Join(t.TempDir(), "known_hosts"), tt.knownHosts)
			cfg := testConfig(t, srv)
			cfg.KnownHostsFiles = []string{kh}
			cfg.AcceptNew = tt.acceptNew
			c, err := Dial(t.Context(), srv.Addr, cfg)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var herr *HostKeyError
			if !errors.As(err, &herr) {
				t.Fatalf("error %v is not a *HostKeyError", err)
			}
			if herr.Changed != tt.wantChanged || (tt.wantChanged && (herr.File != kh || herr.Line != tt.wantLine)) {
				t.Errorf("HostKeyError %+v, want changed=%v at %s:%d", herr, tt.wantChanged, kh, tt.wantLine)
			}
			if herr.Unknown() != strings.HasPrefix(tt.name, "unknown host") {
				t.Errorf("HostKeyError.Unknown() = %v for %+v", herr.Unknown(), herr)
			}
			if !tt.wantChanged && !herr.Revoked && !strings.Contains(err.Error(), herr.Fingerprint) {
				t.Errorf("error does not give the fingerprint %s", herr.Fingerprint)
			}
			if b, _ := os.ReadFile(kh); string(b) != tt.knownHosts {
				t.Errorf("known_hosts changed to %q", b)
			}
		})
	}
}

func TestAcceptNew(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{HostKeyTypes: []string{"ed25519"}})
	kh := filepath.Join(t.TempDir(), "new", "known_hosts") // the directory does not exist yet
	cfg := testConfig(t, srv)
	cfg.KnownHostsFiles = []string{kh}
	cfg.AcceptNew = true
	// Several dials at once: one line, no interleaving.
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(t.Context(), srv.Addr, cfg)
			if err != nil {
				t.Error(err)
				return
			}
			c.Close()
		}()
	}
	wg.Wait()
	b, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1 || lines[0] != srv.KnownHostsLine("ed25519") {
		t.Fatalf("known_hosts = %q, want the one line %q", b, srv.KnownHostsLine("ed25519"))
	}
	// Now known: strict checking accepts it.
	cfg2 := *cfg
	cfg2.AcceptNew = false
	c, err := Dial(t.Context(), srv.Addr, &cfg2)
	if err != nil {
		t.Fatalf("after accept-new: %v", err)
	}
	c.Close()
}

// promptWatcher answers prompt on stderr with answer, once.
type promptWatcher struct {
	prompt, answer string
	mu             sync.Mutex
	seen           string
	answered       bool
}

func (w *promptWatcher) Watch(stream responder.Stream, chunk []byte, stdin io.Writer) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen += string(chunk)
	if !w.answered && strings.Contains(w.seen, w.prompt) {
		w.answered = true
		_, err := io.WriteString(stdin, w.answer+"\n")
		return err
	}
	return nil
}

type failingWatcher struct{ err error }

func (w failingWatcher) Watch(responder.Stream, []byte, io.Writer) error { return w.err }

func TestWatchers(t *testing.T) {
	t.Parallel()
	const prompt = "[sudo] password for gotask-7f3a: "
	srv := sshtest.Start(t, sshtest.Options{Handler: sshtest.SudoPrompt(prompt, "s3cret")})
	c := dial(t, srv, nil)
	tests := []struct {
		name  string
		stdin io.Reader
		pty   runner.PtyMode
	}{
		{name: "stdin nil", stdin: nil},
		{name: "stdin at EOF", stdin: strings.NewReader("")},
		{name: "stdin an empty file", stdin: emptyFile(t)},
		{name: "pty", stdin: nil, pty: runner.PtyOn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &promptWatcher{prompt: prompt, answer: "s3cret"}
			res, err := c.Run(t.Context(), &runner.Cmd{Command: "sudo", Stdin: tt.stdin, Watchers: []responder.Watcher{w}, Pty: tt.pty})
			if err != nil || !strings.Contains(string(res.Stdout), "ok") {
				t.Fatalf("res %+v err %v: the prompt was not answered", res, err)
			}
		})
	}
	t.Run("without a watcher stdin reaches EOF", func(t *testing.T) {
		_, err := c.Run(t.Context(), &runner.Cmd{Command: "sudo"})
		var ee *runner.ExitError
		if !errors.As(err, &ee) || ee.Code != 1 {
			t.Fatalf("err %v, want exit 1 (no password)", err)
		}
	})
	t.Run("watcher error stops the command", func(t *testing.T) {
		boom := errors.New("wrong password sentinel")
		res, err := c.Run(t.Context(), &runner.Cmd{Command: "sudo", Watchers: []responder.Watcher{failingWatcher{boom}}})
		if !errors.Is(err, boom) || res == nil {
			t.Fatalf("err %v, want it to wrap the watcher's error", err)
		}
	})
}

func emptyFile(t *testing.T) *os.File {
	f, err := os.Open(writeFile(t, filepath.Join(t.TempDir(), "empty"), ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestPtyModes(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	c := dial(t, srv, nil)
	tests := []struct {
		pty     runner.PtyMode
		stdin   io.Reader
		wantTTY bool
	}{
		{pty: runner.PtyOn, wantTTY: true},
		{pty: runner.PtyOff},
		{pty: runner.PtyAuto}, // no terminal: pipes
		{pty: runner.PtyAuto, stdin: emptyFile(t)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.pty), func(t *testing.T) {
			res, err := c.Run(t.Context(), &runner.Cmd{Command: "test -t 0 && test -t 1 && echo tty; echo term=$TERM >&2", Pty: tt.pty, Stdin: tt.stdin})
			if err != nil {
				t.Fatal(err)
			}
			gotTTY := strings.Contains(string(res.Stdout), "tty")
			if gotTTY != tt.wantTTY {
				t.Errorf("tty = %v, want %v (stdout %q)", gotTTY, tt.wantTTY, res.Stdout)
			}
			if tt.wantTTY && (len(res.Stderr) != 0 || !strings.Contains(string(res.Stdout), "term=")) {
				t.Errorf("under a pty stderr should merge into stdout: %q / %q", res.Stdout, res.Stderr)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	// An encrypted key made with `ssh-keygen -a 1` (one bcrypt_pbkdf
	// round): keys written by x/crypto use 16 rounds, slow under -race.
	encPub := readPublicKey("testdata/id_ed25519_encrypted.pub")
	if encPub == nil {
		t.Fatal("cannot read testdata/id_ed25519_encrypted.pub")
	}
	stranger, err := sshtest.NewKey("ecdsa")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	encFile := filepath.Join(dir, "id_enc")
	if b, err := os.ReadFile("testdata/id_ed25519_encrypted"); err != nil || os.WriteFile(encFile, b, 0o600) != nil {
		t.Fatal(err)
	}
	strangerFile := filepath.Join(dir, "id_stranger")
	if err := stranger.Write(strangerFile, ""); err != nil {
		t.Fatal(err)
	}
	srv := sshtest.Start(t, sshtest.Options{Password: "pw", AuthorizedKeys: []ssh.PublicKey{encPub}})

	var asked []string
	var mu sync.Mutex
	answer := func(a string) func(string) (string, error) {
		return func(prompt string) (string, error) {
			mu.Lock()
			asked = append(asked, prompt)
			mu.Unlock()
			return a, nil
		}
	}
	tests := []struct {
		name    string
		cfg     func(*Config)
		wantErr []string
	}{
		{name: "plain key", cfg: func(c *Config) {}},
		{name: "encrypted key with passphrase prompt", cfg: func(c *Config) {
			c.IdentityFiles = []string{strangerFile, encFile}
			c.Passphrase = answer("pass phrase")
		}},
		{name: "encrypted key without prompt", cfg: func(c *Config) {
			c.IdentityFiles = []string{encFile}
		}, wantErr: []string{encFile, "encrypted", "ssh-add"}},
		{name: "wrong passphrase, then the user gives up", cfg: func(c *Config) {
			c.IdentityFiles = []string{encFile}
			tries := 0
			c.Passphrase = func(prompt string) (string, error) {
				if tries++; tries > 1 {
					return "", errors.New("user pressed ctrl-d")
				}
				return "nope", nil
			}
		}, wantErr: []string{"passphrase for " + encFile, "ctrl-d"}},
		{name: "wrong passphrase three times", cfg: func(c *Config) {
			c.IdentityFiles = []string{encFile}
			c.Passphrase = answer("nope")
		}, wantErr: []string{"wrong passphrase", encFile, "3 attempts"}},
		{name: "password", cfg: func(c *Config) {
			c.IdentityFiles = []string{strangerFile}
			c.Password = answer("pw")
		}},
		{name: "unauthorized key, no password", cfg: func(c *Config) {
			c.IdentityFiles = []string{strangerFile}
		}, wantErr: []string{"authenticating", strangerFile}},
		{name: "missing explicit key", cfg: func(c *Config) {
			c.IdentityFiles = []string{filepath.Join(dir, "missing")}
		}, wantErr: []string{"missing"}},
	}
	t.Run("group", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				cfg := testConfig(t, srv)
				tt.cfg(cfg)
				c, err := Dial(t.Context(), srv.Addr, cfg)
				if len(tt.wantErr) == 0 {
					if err != nil {
						t.Fatal(err)
					}
					if _, err := c.Run(t.Context(), &runner.Cmd{Command: "true"}); err != nil {
						t.Fatal(err)
					}
					c.Close()
					return
				}
				if err == nil {
					c.Close()
					t.Fatal("authenticated")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
			})
		}
	})
	mu.Lock()
	defer mu.Unlock()
	for _, p := range asked {
		if strings.Contains(p, "passphrase") && !strings.Contains(p, encFile) {
			t.Errorf("passphrase prompt %q does not name the key", p)
		}
	}
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	// A server that accepts TCP and then says nothing: only a timeout
	// that covers the SSH handshake can end the dial.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	cfg := &Config{SSHConfig: "none", AgentSocket: "none", ConnectTimeout: 300 * time.Millisecond, KnownHostsFiles: []string{filepath.Join(t.TempDir(), "kh")}}
	// The server never speaks: only ConnectTimeout can end the dial,
	// long before the hang guard gives up on it.
	dialed := make(chan error, 1)
	go func() {
		c, err := Dial(t.Context(), ln.Addr().String(), cfg)
		if err == nil {
			c.Close()
		}
		dialed <- err
	}()
	select {
	case err = <-dialed:
	case <-time.After(hangGuard):
		t.Fatalf("Dial still waiting after %v, with a ConnectTimeout of %v", hangGuard, cfg.ConnectTimeout)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no SSH connection") {
		t.Fatalf("err = %v, want a connect timeout", err)
	}
}

func TestDialThroughSSHConfigAndJump(t *testing.T) {
	t.Parallel()
	jump := sshtest.Start(t, sshtest.Options{})
	target := sshtest.Start(t, sshtest.Options{Handler: func(s *sshtest.Session) int {
		io.WriteString(s.Stdout, "target:"+commandOf(s.Command))
		return 0
	}})
	dir := t.TempDir()
	kh := writeFile(t, filepath.Join(dir, "known_hosts"), jump.KnownHostsLine("ed25519")+"\n"+target.KnownHostsLine("ed25519")+"\n")
	cfgFile := writeFile(t, filepath.Join(dir, "config"), fmt.Sprintf(`
Host bastion
  HostName 127.0.0.1
  Port %d
  IdentityFile %s

Host app
  HostName 127.0.0.1
  Port %d
  User deploy
  ProxyJump bastion
  IdentityFile %s
  UserKnownHostsFile %s
`, jump.Port, jump.ClientKeyFile, target.Port, target.ClientKeyFile, kh))
	var dialer recordingDialer
	cfg := &Config{
		SSHConfig:       cfgFile,
		AgentSocket:     "none",
		KnownHostsFiles: []string{kh},
		DialContext:     dialer.DialContext,
	}
	c, err := Dial(t.Context(), "app", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Run(t.Context(), &runner.Cmd{Command: "hello"})
	if err != nil || string(res.Stdout) != "target:hello" || res.Host != "app" {
		t.Fatalf("res %+v err %v", res, err)
	}
	if dialed := dialer.addrs(); len(dialed) != 1 || dialed[0] != jump.Addr {
		t.Errorf("dialed %v directly, want only the jump host %s", dialed, jump.Addr)
	}
	if jump.Connections() != 1 || target.Connections() != 1 {
		t.Errorf("connections: jump %d target %d", jump.Connections(), target.Connections())
	}
}

func authorizedLine(k ssh.Signer) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey())))
}

// hashedLine is srv's ed25519 known_hosts line with the host name hashed.
func hashedLine(srv *sshtest.Server) string {
	for _, k := range srv.HostKeys {
		if k.PublicKey().Type() == ssh.KeyAlgoED25519 {
			return xknownhosts.HashHostname(fmt.Sprintf("[%s]:%d", srv.Host, srv.Port)) + " " + authorizedLine(k)
		}
	}
	panic("no ed25519 host key")
}

// lateWatcher fails on its sentinel, but only once the session has
// closed, so that Run sees the failure after the command ended.
type lateWatcher struct {
	sentinel string
	closed   chan (<-chan struct{})
	mu       sync.Mutex
	seen     string
}

func (w *lateWatcher) Watch(_ responder.Stream, chunk []byte, _ io.Writer) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen += string(chunk)
	if strings.Contains(w.seen, w.sentinel) {
		select {
		case <-<-w.closed:
		case <-time.After(hangGuard):
		}
		return fmt.Errorf("saw %q", w.sentinel)
	}
	return nil
}

// A failure sentinel in the very last output, just before a successful
// exit, must still fail the command.
func TestWatcherFailsOnLastChunk(t *testing.T) {
	t.Parallel()
	closed := make(chan (<-chan struct{}), 1)
	srv := sshtest.Start(t, sshtest.Options{Handler: func(s *sshtest.Session) int {
		closed <- s.Closed
		io.WriteString(s.Stderr, "Sorry, try again.")
		return 0
	}})
	c := dial(t, srv, nil)
	w := &lateWatcher{sentinel: "Sorry, try again.", closed: closed}
	_, err := c.Run(t.Context(), &runner.Cmd{Command: "x", Watchers: []responder.Watcher{w}})
	if err == nil || !strings.Contains(err.Error(), `saw "Sorry, try again."`) {
		t.Fatalf("err %v, want the watcher's error", err)
	}
}

// known_hosts knows the host only by a key type it no longer offers.
func TestHostKeyTypeGone(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{HostKeyTypes: []string{"ed25519"}})
	old, err := sshtest.NewKey("ecdsa")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, srv)
	cfg.KnownHostsFiles = []string{writeFile(t, filepath.Join(t.TempDir(), "known_hosts"),
		fmt.Sprintf("[%s]:%d %s\n", srv.Host, srv.Port, authorizedLine(old)))}
	cfg.AcceptNew = true // must not help: the host is not new
	c, err := Dial(t.Context(), srv.Addr, cfg)
	if err == nil {
		c.Close()
		t.Fatal("connected")
	}
	if !strings.Contains(err.Error(), "may have changed") || !strings.Contains(err.Error(), "ssh-keygen -R") {
		t.Errorf("err %v", err)
	}
}

// recordingDialer dials TCP as net.Dialer does and records each address,
// to check which hosts a connection reached directly.
type recordingDialer struct {
	mu     sync.Mutex
	dialed []string
}

func (r *recordingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	r.dialed = append(r.dialed, addr)
	r.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (r *recordingDialer) addrs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.dialed)
}

// commandOf returns the command a fake handler is asked to run, without
// the process id report that Run puts before every command line.
func commandOf(line string) string {
	for _, form := range [][2]string{{"sh -c 'echo " + pidTag, ">&2'; "}, {"echo " + pidTag, ">&2; "}} {
		if strings.HasPrefix(line, form[0]) {
			if i := strings.Index(line, form[1]); i >= 0 {
				return line[i+len(form[1]):]
			}
		}
	}
	return line
}
