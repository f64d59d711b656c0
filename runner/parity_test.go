package runner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/local"
	"github.com/gotask/gotask/runner/remote"
)

// errCause is the cause a caller cancels with.
var errCause = errors.New("a sibling task failed")

// errWatcher is what the failing watcher returns.
var errWatcher = errors.New("the watcher gave up")

// failOn is a watcher that fails once it sees word.
type failOn struct{ word string }

func (w failOn) Watch(_ responder.Stream, b []byte, _ io.Writer) error {
	if bytes.Contains(b, []byte(w.word)) {
		return errWatcher
	}
	return nil
}

// cancelOn is an output writer that cancels its context once it has seen
// word, so that a command is cancelled while it surely runs.
type cancelOn struct {
	mu     sync.Mutex
	seen   bytes.Buffer
	word   string
	cancel func()
}

func (w *cancelOn) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen.Write(b)
	if strings.Contains(w.seen.String(), w.word) {
		w.cancel()
	}
	return len(b), nil
}

// outcome is what a caller can learn from a Run: everything the table
// compares between the runners.
type outcome struct {
	Message        string // the error's text, without " on HOST"
	Canceled       bool   // errors.Is(err, context.Canceled)
	Deadline       bool   // errors.Is(err, context.DeadlineExceeded)
	Cause          bool   // errors.Is(err, errCause)
	Watcher        bool   // errors.Is(err, errWatcher)
	Unknown        bool   // errors.Is(err, runner.ErrOutcomeUnknown)
	IsExit         bool   // errors.As(err, **runner.ExitError)
	Signal         string // its Signal
	TimedOut       bool
	Timeout        time.Duration
	Stdout, Stderr string
	Truncated      bool
}

func outcomeOf(res *runner.Result, err error, host string) outcome {
	var o outcome
	if err != nil {
		o.Message = err.Error()
		if host != "" {
			o.Message = strings.ReplaceAll(o.Message, " on "+host, "")
		}
	}
	o.Canceled = errors.Is(err, context.Canceled)
	o.Deadline = errors.Is(err, context.DeadlineExceeded)
	o.Cause = errors.Is(err, errCause)
	o.Watcher = errors.Is(err, errWatcher)
	o.Unknown = errors.Is(err, runner.ErrOutcomeUnknown)
	var ee *runner.ExitError
	if errors.As(err, &ee) {
		o.IsExit, o.Signal, o.TimedOut, o.Timeout = true, ee.Signal, ee.TimedOut, ee.Timeout
	}
	if res != nil {
		o.Stdout, o.Stderr, o.Truncated = string(res.Stdout), string(res.Stderr), res.Truncated
	}
	return o
}

// event is one thing that can happen to a command, set up the same way
// for every runner.
type event struct {
	name  string
	cmd   func() *runner.Cmd
	ctx   func(context.Context, *runner.Cmd) (context.Context, func())
	want  outcome
	check func(t *testing.T, res *runner.Result, err error) // what the outcome cannot say
}

func parityEvents() []event {
	cancelWhenReady := func(cause error) func(context.Context, *runner.Cmd) (context.Context, func()) {
		return func(ctx context.Context, c *runner.Cmd) (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(ctx)
			c.Stdout = &cancelOn{word: "ready", cancel: func() { cancel(cause) }}
			return ctx, func() { cancel(nil) }
		}
	}
	return []event{
		{
			name: "exit 3",
			cmd:  func() *runner.Cmd { return &runner.Cmd{Command: "echo out; echo err >&2; exit 3"} },
			want: outcome{Message: "command exited with status 3", IsExit: true, Stdout: "out\n", Stderr: "err\n"},
			check: func(t *testing.T, res *runner.Result, err error) {
				if res == nil || res.ExitCode != 3 {
					t.Errorf("Result = %+v, want exit code 3", res)
				}
			},
		},
		{
			name: "timeout",
			cmd: func() *runner.Cmd {
				return &runner.Cmd{Command: "echo started; exec sleep 30", Timeout: 300 * time.Millisecond}
			},
			want: outcome{Message: "command timed out after 300ms", IsExit: true, Signal: "terminated", TimedOut: true, Timeout: 300 * time.Millisecond, Stdout: "started\n"},
		},
		{
			name: "context cancelled",
			cmd:  func() *runner.Cmd { return &runner.Cmd{Command: "echo ready; exec sleep 30"} },
			ctx:  cancelWhenReady(nil),
			want: outcome{Message: "command interrupted", Canceled: true, IsExit: true, Signal: "interrupt", Stdout: "ready\n"},
		},
		{
			name: "context cancelled with a cause",
			cmd:  func() *runner.Cmd { return &runner.Cmd{Command: "echo ready; exec sleep 30"} },
			ctx:  cancelWhenReady(errCause),
			want: outcome{Message: "command interrupted", Canceled: true, Cause: true, IsExit: true, Signal: "interrupt", Stdout: "ready\n"},
		},
		{
			name: "context past its deadline",
			cmd:  func() *runner.Cmd { return &runner.Cmd{Command: "echo ready; exec sleep 30"} },
			ctx: func(ctx context.Context, c *runner.Cmd) (context.Context, func()) {
				// The deadline is far off; the writer expires it early,
				// once the command surely runs.
				ctx, cancel := context.WithCancelCause(ctx)
				c.Stdout = &cancelOn{word: "ready", cancel: func() { cancel(context.DeadlineExceeded) }}
				return ctx, func() { cancel(nil) }
			},
			want: outcome{Message: "command interrupted", Canceled: true, Deadline: true, IsExit: true, Signal: "interrupt", Stdout: "ready\n"},
		},
		{
			name: "watcher fails",
			cmd: func() *runner.Cmd {
				return &runner.Cmd{Command: "echo go; exec sleep 30", Watchers: []responder.Watcher{failOn{"go"}}}
			},
			want: outcome{Message: "the watcher gave up", Watcher: true, Stdout: "go\n"},
		},
		{
			name: "watcher fails on the last output",
			cmd: func() *runner.Cmd {
				return &runner.Cmd{Command: "echo go", Watchers: []responder.Watcher{failOn{"go"}}}
			},
			want: outcome{Message: "the watcher gave up", Watcher: true, Stdout: "go\n"},
		},
		{
			name: "output over the capture limit",
			cmd: func() *runner.Cmd {
				return &runner.Cmd{Command: "printf 0123456789; printf abcdefgh >&2", Capture: 4}
			},
			want: outcome{Stdout: "0123", Stderr: "abcd", Truncated: true},
		},
		{
			name: "output exactly at the capture limit",
			cmd:  func() *runner.Cmd { return &runner.Cmd{Command: "printf 0123", Capture: 4} },
			want: outcome{Stdout: "0123"},
		},
		{
			name: "capture off",
			cmd:  func() *runner.Cmd { return &runner.Cmd{Command: "printf 0123456789", Capture: -1} },
			want: outcome{},
		},
		{
			name: "output past the default tail",
			cmd:  func() *runner.Cmd { return &runner.Cmd{Command: "seq 3000; seq 2000 >&2"} },
			want: outcome{Stdout: seqTail(3000), Stderr: seqTail(2000), Truncated: true},
		},
		{
			name: "stdin reaches end of file",
			cmd: func() *runner.Cmd {
				return &runner.Cmd{Command: "cat; echo done", Stdin: strings.NewReader("hello\n")}
			},
			want: outcome{Stdout: "hello\ndone\n"},
		},
	}
}

// TestRunnersAgree runs the same events through the local runner and the
// SSH runner, against the in-process server and a real OpenSSH sshd, and
// checks that a caller sees the same errors, errors.Is and errors.As
// answers, messages (but for " on HOST") and captures.
func TestRunnersAgree(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	inProcess := dial(t, srv.Addr, &remote.Config{
		SSHConfig:       "none",
		AgentSocket:     "none",
		IdentityFiles:   []string{srv.ClientKeyFile},
		KnownHostsFiles: []string{srv.WriteKnownHosts(t)},
		StopGrace:       300 * time.Millisecond,
	})
	d := sshtest.StartSSHD(t) // skips, or fails under GOTASK_REQUIRE_REAL_PEERS, without sshd
	openssh := dial(t, d.User+"@"+d.Addr, &remote.Config{
		SSHConfig:       "none",
		AgentSocket:     "none",
		IdentityFiles:   []string{d.KeyFile},
		KnownHostsFiles: []string{d.KnownHosts},
		StopGrace:       time.Second,
	})
	runners := []struct {
		name string
		r    runner.Runner
		host string
	}{
		{"local", &local.Runner{StopGrace: 300 * time.Millisecond}, ""},
		{"in-process SSH", inProcess, inProcess.Host()},
		{"OpenSSH", openssh, openssh.Host()},
	}
	for _, ev := range parityEvents() {
		t.Run(ev.name, func(t *testing.T) {
			t.Parallel()
			got := make([]outcome, len(runners))
			for i, rn := range runners {
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang guard, far above what a run takes
				cmd := ev.cmd()
				cmd.Pty = runner.PtyOff
				if ev.ctx != nil {
					var done func()
					ctx, done = ev.ctx(ctx, cmd)
					defer done()
				}
				res, err := rn.r.Run(ctx, cmd)
				cancel()
				if ev.check != nil {
					t.Run(rn.name, func(t *testing.T) { ev.check(t, res, err) })
				}
				got[i] = outcomeOf(res, err, rn.host)
				if got[i] != ev.want {
					t.Errorf("%s runner: %s\n got %+v\nwant %+v", rn.name, describe(err), got[i], ev.want)
				}
			}
			for i := 1; i < len(got); i++ {
				if got[i] != got[0] {
					t.Errorf("the runners disagree:\n%s: %+v\n%s: %+v", runners[0].name, got[0], runners[i].name, got[i])
				}
			}
		})
	}
}

// seqTail returns the last runner.TailCapture bytes of the output of
// `seq n`.
func seqTail(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	s := b.String()
	return s[max(0, len(s)-runner.TailCapture):]
}

// dial connects to addr, closing the client when the test ends.
func dial(t *testing.T, addr string, cfg *remote.Config) *remote.Client {
	t.Helper()
	c, err := remote.Dial(t.Context(), addr, cfg)
	if err != nil {
		t.Fatalf("Dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// describe prints err with its type, for a failure message.
func describe(err error) string {
	if err == nil {
		return "no error"
	}
	return fmt.Sprintf("error %T %q", err, err)
}
