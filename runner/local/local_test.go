package local

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

func TestRunOutputAndExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		cmd        string
		pty        runner.PtyMode
		wantOut    string
		wantErr    string
		wantCode   int
		wantStderr string
	}{
		{name: "pipes keep streams apart", cmd: "printf out; printf err >&2", pty: runner.PtyOff, wantOut: "out", wantStderr: "err"},
		{name: "pty merges streams", cmd: "printf out; printf err >&2", pty: runner.PtyOn, wantOut: "outerr"},
		{name: "pty translates newlines", cmd: `printf 'a\nb\n'`, pty: runner.PtyOn, wantOut: "a\r\nb\r\n"},
		{name: "exit code passes through", cmd: "echo x; exit 3", pty: runner.PtyOff, wantOut: "x\n", wantCode: 3},
		{name: "exit code under pty", cmd: "exit 42", pty: runner.PtyOn, wantCode: 42},
		{name: "signal death", cmd: "kill -TERM $$", pty: runner.PtyOff, wantCode: 128 + int(syscall.SIGTERM)},
		{name: "binary bytes intact", cmd: `printf '\000\001\377'`, pty: runner.PtyOff, wantOut: "\x00\x01\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var live bytes.Buffer
			res, err := New().Run(t.Context(), &runner.Cmd{Command: tt.cmd, Pty: tt.pty, Stdout: &live})
			if res == nil {
				t.Fatalf("no result: %v", err)
			}
			if got := string(res.Stdout); got != tt.wantOut {
				t.Errorf("captured stdout = %q, want %q", got, tt.wantOut)
			}
			if got := live.String(); got != tt.wantOut {
				t.Errorf("streamed stdout = %q, want %q", got, tt.wantOut)
			}
			if got := string(res.Stderr); got != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", got, tt.wantStderr)
			}
			if res.ExitCode != tt.wantCode {
				t.Errorf("exit code = %d, want %d", res.ExitCode, tt.wantCode)
			}
			var ee *runner.ExitError
			if tt.wantCode == 0 && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if tt.wantCode != 0 && (!errors.As(err, &ee) || ee.Code != tt.wantCode) {
				t.Errorf("error = %v, want ExitError with code %d", err, tt.wantCode)
			}
		})
	}
}

func TestNoTrailingBytesLost(t *testing.T) {
	for _, mode := range []runner.PtyMode{runner.PtyOff, runner.PtyOn} {
		t.Run(strconv.Itoa(int(mode)), func(t *testing.T) {
			// 3 MB written as fast as possible, then an immediate exit:
			// the last bytes must still arrive.
			var live countingWriter
			res, err := New().Run(t.Context(), &runner.Cmd{
				Command: "head -c 3000000 /dev/zero | tr '\\0' x; printf END",
				Pty:     mode, Stdout: &live, Capture: -1,
			})
			if err != nil {
				t.Fatal(err)
			}
			if live.n != 3000003 || !bytes.HasSuffix(live.last, []byte("END")) {
				t.Errorf("streamed %d bytes ending %q, want 3000003 ending END", live.n, live.last)
			}
			if len(res.Stdout) != 0 {
				t.Errorf("Capture -1 kept %d bytes", len(res.Stdout))
			}
		})
	}
}

type countingWriter struct {
	n    int
	last []byte
}

// Write counts p and keeps the last 8 bytes written, which may span
// several writes.
func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.last = append(w.last, p[max(0, len(p)-8):]...)
	w.last = w.last[max(0, len(w.last)-8):]
	return len(p), nil
}

func TestCaptureIsBounded(t *testing.T) {
	res, err := New().Run(t.Context(), &runner.Cmd{Command: "head -c 10000 /dev/zero", Capture: 100, Pty: runner.PtyOff})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != 100 || !res.Truncated {
		t.Errorf("captured %d bytes, truncated=%v; want 100, true", len(res.Stdout), res.Truncated)
	}
}

func TestTimeoutKillsTheProcessTree(t *testing.T) {
	for _, mode := range []runner.PtyMode{runner.PtyOff, runner.PtyOn} {
		t.Run(strconv.Itoa(int(mode)), func(t *testing.T) {
			dir := t.TempDir()
			// The child ignores SIGTERM so only the kill after the grace
			// period can end it; its grandchild must die with it.
			cmd := `sleep 300 & echo $! > grandchild; echo $$ > child; trap '' TERM; while :; do sleep 1; done`
			r := &Runner{StopGrace: 200 * time.Millisecond}
			// The command never ends by itself: only the timeout can end
			// Run with a timed-out error, long before the hang guard
			// cancels it (which would be no timeout).
			ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
			defer cancel()
			_, err := r.Run(ctx, &runner.Cmd{Command: cmd, Dir: dir, Timeout: 300 * time.Millisecond, Pty: mode})
			var ee *runner.ExitError
			if !errors.As(err, &ee) || !ee.TimedOut {
				t.Fatalf("err = %v, want a timed-out ExitError", err)
			}
			for _, name := range []string{"child", "grandchild"} {
				pid := readPid(t, filepath.Join(dir, name))
				waitGone(t, name, pid)
			}
		})
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// hangGuard bounds what a test waits for, only so that a broken
// mechanism fails the test rather than hanging it: far beyond what the
// slowest machine needs. No test asserts how long anything took.
const hangGuard = 2 * time.Minute

// waitGone polls until pid no longer exists (a zombie counts as gone once
// reaped by init); it fails the test if the process is still there after
// hangGuard.
func waitGone(t *testing.T, name string, pid int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || bytes.Contains(stat, []byte(") Z ")) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("%s (pid %d) still running after the command was stopped", name, pid)
}

func TestCancelInterruptsTheCommand(t *testing.T) {
	for _, mode := range []runner.PtyMode{runner.PtyOff, runner.PtyOn} {
		t.Run(strconv.Itoa(int(mode)), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			ready := &triggerWriter{pattern: "ready", fire: cancel}
			res, err := New().Run(ctx, &runner.Cmd{
				Command: `trap 'echo got-INT; exit 7' INT; echo ready; while :; do sleep 0.05; done`,
				Pty:     mode, Stdout: ready,
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if !bytes.Contains(res.Stdout, []byte("got-INT")) {
				t.Errorf("the command did not see SIGINT; output %q", res.Stdout)
			}
		})
	}
}

// triggerWriter calls fire once when pattern has been written.
type triggerWriter struct {
	pattern string
	fire    func()
	seen    bytes.Buffer
	done    bool
}

func (w *triggerWriter) Write(p []byte) (int, error) {
	w.seen.Write(p)
	if !w.done && strings.Contains(w.seen.String(), w.pattern) {
		w.done = true
		w.fire()
	}
	return len(p), nil
}

func TestEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOTASK_SUDO_PASSWORD", "hunter2")
	t.Setenv("GOTASK_TEST_INHERITED", "yes")
	res, err := New().Run(t.Context(), &runner.Cmd{
		Command: `pwd; echo "$GREETING"; echo "${GOTASK_SUDO_PASSWORD-unset}"; echo "$GOTASK_TEST_INHERITED"`,
		Dir:     dir,
		Env:     []string{"GREETING=first", "GREETING=hello world"},
		Pty:     runner.PtyOff,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := dir + "\nhello world\nunset\nyes\n"
	if string(res.Stdout) != want {
		t.Errorf("output %q, want %q", res.Stdout, want)
	}
}

// answerer is a minimal watcher: it answers each "Continue?" once.
type answerer struct{ seen int }

func (a *answerer) Watch(_ responder.Stream, chunk []byte, stdin io.Writer) error {
	n := bytes.Count(chunk, []byte("Continue?"))
	for ; n > 0; n-- {
		a.seen++
		if _, err := io.WriteString(stdin, "y\n"); err != nil {
			return err
		}
	}
	return nil
}

func TestWatcherAnswersWithAnyStdin(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	closedR, closedW, _ := os.Pipe()
	closedW.Close()
	defer closedR.Close()
	inputs := map[string]io.Reader{"nil": nil, "devnull": devnull, "eof pipe": closedR, "empty reader": eofReader{}}
	for name, in := range inputs {
		for _, mode := range []runner.PtyMode{runner.PtyOff, runner.PtyOn} {
			t.Run(name+"/"+strconv.Itoa(int(mode)), func(t *testing.T) {
				a := &answerer{}
				res, err := New().Run(t.Context(), &runner.Cmd{
					Command:  `printf 'Continue? '; read ans; echo "answer=$ans"`,
					Stdin:    in,
					Pty:      mode,
					Watchers: []responder.Watcher{a},
					Timeout:  hangGuard,
				})
				if err != nil {
					t.Fatal(err)
				}
				if !regexp.MustCompile(`answer=y\r?\n$`).Match(res.Stdout) || a.seen != 1 {
					t.Errorf("output %q after %d prompts, want one answer y", res.Stdout, a.seen)
				}
			})
		}
	}
}

func TestWatcherErrorStopsTheCommand(t *testing.T) {
	boom := errors.New("boom")
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	marker := filepath.Join(t.TempDir(), "ran-to-the-end")
	_, err := New().Run(ctx, &runner.Cmd{
		Command:  "echo trigger; sleep 3600; touch " + marker,
		Pty:      runner.PtyOff,
		Watchers: []responder.Watcher{failOn{"trigger", boom}},
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the watcher's error", err)
	}
	if ctx.Err() != nil {
		t.Errorf("the command was still running after %v", hangGuard)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran to its end")
	}
}

type failOn struct {
	text string
	err  error
}

func (f failOn) Watch(_ responder.Stream, chunk []byte, _ io.Writer) error {
	if bytes.Contains(chunk, []byte(f.text)) {
		return f.err
	}
	return nil
}

func TestStdinIsPassedToTheCommand(t *testing.T) {
	for _, mode := range []runner.PtyMode{runner.PtyOff} {
		res, err := New().Run(t.Context(), &runner.Cmd{Command: "tr a-z A-Z", Stdin: strings.NewReader("hello\n"), Pty: mode})
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Stdout) != "HELLO\n" {
			t.Errorf("output %q", res.Stdout)
		}
	}
}

func TestBackgroundChildDoesNotHangTheRunner(t *testing.T) {
	for _, mode := range []runner.PtyMode{runner.PtyOff, runner.PtyOn} {
		t.Run(strconv.Itoa(int(mode)), func(t *testing.T) {
			dir := t.TempDir()
			// The child outlives any test; Run must not wait for it.
			ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
			defer cancel()
			res, err := New().Run(ctx, &runner.Cmd{Command: "sleep 3600 & echo $! > bg; echo done", Dir: dir, Pty: mode})
			defer func() { _ = syscall.Kill(readPid(t, filepath.Join(dir, "bg")), syscall.SIGKILL) }()
			if ctx.Err() != nil {
				t.Fatalf("Run waited %v for a background child holding the output open", hangGuard)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(res.Stdout, []byte("done")) {
				t.Errorf("output %q", res.Stdout)
			}
		})
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// TestPtyPortable runs commands on a pseudo-terminal as on macOS: with
// no pidfd, a goroutine reaps the process and wakes the loop that moves
// the output and input, which waits with select(2), as poll(2) cannot
// wait for a terminal there.
func TestPtyPortable(t *testing.T) {
	tests := []struct {
		name     string
		cmd      string
		timeout  time.Duration
		watcher  responder.Watcher
		stdin    func(t *testing.T) io.Reader
		wantOut  string
		wantCode int
	}{
		{name: "output and exit code", cmd: "printf out; exit 3", wantOut: "out", wantCode: 3},
		{name: "last bytes", cmd: "head -c 300000 /dev/zero | tr '\\0' x; printf END", wantOut: strings.Repeat("x", 300000) + "END"},
		{name: "background child", cmd: "(trap '' HUP; exec sleep 3600) & echo $! > bg; echo done", wantOut: "done\r\n"},
		{name: "watcher answers", cmd: `printf 'Continue? '; read ans; echo "answer=$ans"`, watcher: &answerer{}, wantOut: "Continue? y\r\nanswer=y\r\n"},
		{name: "timeout", cmd: "trap '' TERM; sleep 3600", timeout: 200 * time.Millisecond, wantCode: 128 + int(syscall.SIGKILL)},
		// The terminal echoes input as it arrives, before the command reads it.
		{name: "input from a pipe", cmd: `read x; echo "got=$x"`, stdin: pipeWith("hello\n"), wantOut: "hello\r\ngot=hello\r\n"},
		{name: "input from a reader", cmd: `read x; echo "got=$x"`, stdin: func(*testing.T) io.Reader { return strings.NewReader("hello\n") }, wantOut: "hello\r\ngot=hello\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := &runner.Cmd{Command: tt.cmd, Dir: dir, Pty: runner.PtyOn, Timeout: tt.timeout, Capture: 1 << 20}
			if tt.watcher != nil {
				cmd.Watchers = []responder.Watcher{tt.watcher}
			}
			if tt.stdin != nil {
				cmd.Stdin = tt.stdin(t)
			}
			res := runPortable(t, cmd, tt.wantCode)
			if string(res.Stdout) != tt.wantOut {
				t.Errorf("output %.80q (%d bytes), want %.80q (%d bytes)", res.Stdout, len(res.Stdout), tt.wantOut, len(tt.wantOut))
			}
		})
	}
}

// TestPipesPortable runs commands with pipes as on macOS: with no pidfd,
// a goroutine reaps the process and wakes the loop that moves both
// output streams, which waits with select(2).
func TestPipesPortable(t *testing.T) {
	tests := []struct {
		name             string
		cmd              string
		timeout          time.Duration
		watcher          responder.Watcher
		wantOut, wantErr string
		wantCode         int
	}{
		{name: "output and exit code", cmd: "printf out; printf err >&2; exit 3", wantOut: "out", wantErr: "err", wantCode: 3},
		{name: "last bytes", cmd: "head -c 300000 /dev/zero | tr '\\0' x; printf END; printf E2 >&2", wantOut: strings.Repeat("x", 300000) + "END", wantErr: "E2"},
		{name: "background child", cmd: "(trap '' HUP; exec sleep 3600) & echo $! > bg; echo done", wantOut: "done\n"},
		{name: "watcher answers", cmd: `printf 'Continue? '; read ans; echo "answer=$ans"`, watcher: &answerer{}, wantOut: "Continue? answer=y\n"},
		{name: "timeout", cmd: "trap '' TERM; sleep 3600", timeout: 200 * time.Millisecond, wantCode: 128 + int(syscall.SIGKILL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := &runner.Cmd{Command: tt.cmd, Dir: dir, Pty: runner.PtyOff, Timeout: tt.timeout, Capture: 1 << 20}
			if tt.watcher != nil {
				cmd.Watchers = []responder.Watcher{tt.watcher}
			}
			res := runPortable(t, cmd, tt.wantCode)
			if string(res.Stdout) != tt.wantOut || string(res.Stderr) != tt.wantErr {
				t.Errorf("output %.80q (%d bytes) and %q, want %.80q (%d bytes) and %q", res.Stdout, len(res.Stdout), res.Stderr, tt.wantOut, len(tt.wantOut), tt.wantErr)
			}
		})
	}
}

// runPortable runs cmd as on macOS and checks its exit code. No command
// here ends by itself unless it is meant to: Run must return without
// waiting for a background child (whose pid is in cmd.Dir/bg, killed
// here), and end the one that times out.
func runPortable(t *testing.T, cmd *runner.Cmd, wantCode int) *runner.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	res, err := (&Runner{portable: true, StopGrace: 100 * time.Millisecond}).Run(ctx, cmd)
	if ctx.Err() != nil {
		t.Errorf("Run still waiting after %v", hangGuard)
	}
	if bg := filepath.Join(cmd.Dir, "bg"); fileExists(bg) {
		_ = syscall.Kill(readPid(t, bg), syscall.SIGKILL)
	}
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	if res.ExitCode != wantCode {
		t.Errorf("exit code %d (%v), want %d", res.ExitCode, err, wantCode)
	}
	return res
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// pipeWith returns the read end of a pipe that holds s, for Stdin.
func pipeWith(s string) func(t *testing.T) io.Reader {
	return func(t *testing.T) io.Reader {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close(); w.Close() })
		if _, err := w.WriteString(s); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func TestSelectReadyRefusesWhatSelectCannotTake(t *testing.T) {
	for _, fd := range []int32{-1, unix.FD_SETSIZE} {
		if err := selectReady([]unix.PollFd{{Fd: fd, Events: unix.POLLIN}}); err == nil {
			t.Errorf("descriptor %d: no error", fd)
		}
	}
}

// releaser answers "ready" with "answer\n", then lets the held input go.
type releaser struct {
	hold chan struct{}
	done bool
}

func (r *releaser) Watch(_ responder.Stream, chunk []byte, stdin io.Writer) error {
	if r.done || !bytes.Contains(chunk, []byte("ready")) {
		return nil
	}
	r.done = true
	_, err := io.WriteString(stdin, "answer\n")
	close(r.hold)
	return err
}

// TestHoldInput: input that is there from the start reaches the command
// only after what a watcher writes before it lets the input go (sudo's
// password before type-ahead), and not at all if it never does.
func TestHoldInput(t *testing.T) {
	inputs := map[string]func(t *testing.T) io.Reader{
		"pipe":   pipeWith("early\n"),
		"reader": func(*testing.T) io.Reader { return strings.NewReader("early\n") },
	}
	for name, in := range inputs {
		for _, mode := range []runner.PtyMode{runner.PtyOff, runner.PtyOn} {
			t.Run(name+"/"+strconv.Itoa(int(mode)), func(t *testing.T) {
				r := &releaser{hold: make(chan struct{})}
				res, err := New().Run(t.Context(), &runner.Cmd{
					Command:   `echo ready; IFS= read -r a; IFS= read -r b; echo "first=$a second=$b"`,
					Stdin:     in(t),
					Pty:       mode,
					Watchers:  []responder.Watcher{r},
					HoldInput: r.hold,
					Timeout:   10 * time.Second,
				})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(res.Stdout, []byte("first=answer second=early")) {
					t.Errorf("output %q, want the answer first, then the held input", res.Stdout)
				}
			})
		}
	}
	for _, mode := range []runner.PtyMode{runner.PtyOff, runner.PtyOn} {
		t.Run("never let go/"+strconv.Itoa(int(mode)), func(t *testing.T) {
			in := pipeWith("early\n")(t)
			res, err := New().Run(t.Context(), &runner.Cmd{
				Command:   `echo done`,
				Stdin:     in,
				Pty:       mode,
				Watchers:  []responder.Watcher{&answerer{}},
				HoldInput: make(chan struct{}),
				Timeout:   10 * time.Second,
			})
			if err != nil {
				t.Fatalf("%v; output %q", err, res.Stdout)
			}
			// Hang guard: what is left is there at once.
			_ = in.(*os.File).SetReadDeadline(time.Now().Add(5 * time.Second))
			rest := make([]byte, 16)
			n, err := in.Read(rest)
			if string(rest[:n]) != "early\n" {
				t.Errorf("left %q (%v) of the input, want all of it for whoever reads next", rest[:n], err)
			}
		})
	}
}

// onWrite calls f, once, on the goroutine that writes, the first time
// the output contains want.
type onWrite struct {
	want string
	seen []byte
	f    func()
}

func (w *onWrite) Write(b []byte) (int, error) {
	w.seen = append(w.seen, b...)
	if w.f != nil && bytes.Contains(w.seen, []byte(w.want)) {
		w.f()
		w.f = nil
	}
	return len(b), nil
}

// TestPipesNeedNoGoroutines checks the pipes path's design: while a
// command runs with pipes and no input to copy, the goroutine that
// called Run moves its output and waits for it, and no other goroutine
// of this package or of its plumbing exists (two readers and a waiter,
// as before, cost context switches on every command).
func TestPipesNeedNoGoroutines(t *testing.T) {
	var stacks string
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	out := &onWrite{want: "ready", f: func() {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		cancel()
	}}
	_, err := New().Run(ctx, &runner.Cmd{Command: "echo ready; exec sleep 60", Pty: runner.PtyOff, Stdout: out})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want it interrupted once the command was ready", err)
	}
	var others []string
	for _, g := range strings.Split(stacks, "\n\n") {
		if strings.Contains(g, "TestPipesNeedNoGoroutines") {
			continue // the test's own goroutine, running the command
		}
		if strings.Contains(g, "gotask/runner/") || strings.Contains(g, "os/exec") || strings.Contains(g, "internal/poll") {
			others = append(others, g)
		}
	}
	if len(others) > 0 {
		t.Errorf("%d more goroutines move or wait for the command:\n%s", len(others), strings.Join(others, "\n\n"))
	}
}
