package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/term"

	"github.com/gotask/gotask/internal/shell"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/internal/capture"
)

// Run runs cmd on the Client's host in a new session and waits for it.
// See runner.Runner for the contract. Specific to SSH:
//
//   - Cmd.Command goes to the login shell as the exec request; Cmd.Env
//     becomes `env 'K=V'... sh -c 'COMMAND'` and Cmd.Dir a leading
//     `cd 'DIR' &&`, every value shell-quoted, except that a leading "~/"
//     is left for the remote shell to expand.
//   - The login shell first reports its process id (the id of the
//     command's process group) on stderr, or on the pty with one; the
//     report is taken out of the output.
//   - Stopping, with or without a pseudo-terminal, reaches the whole
//     process group, background children included: cancellation sends
//     INT (under a pty by typing a Ctrl-C, 0x03), a timeout or a failed
//     watcher sends TERM; after Config.StopGrace the group gets KILL,
//     and once the command has ended, whatever is left in its group is
//     killed too. The signals are sent by `kill` in a second session, as
//     the login user, since sshd cannot signal a group whose shell has
//     exited, nor any group of a root login. A process that moved itself
//     into a group of its own (setsid, a daemon) is not reached. Without
//     the report (a server whose shell printed none), the signals go by
//     the SSH signal request instead. Then the session is closed.
//   - A connection lost before the command reported its exit status
//     yields an error wrapping runner.ErrOutcomeUnknown.
func (c *Client) Run(ctx context.Context, cmd *runner.Cmd) (*runner.Result, error) {
	if cmd.Nice != 0 {
		return nil, fmt.Errorf("command for %s: nice is not supported on hosts yet", c.name)
	}
	line, err := commandLine(cmd)
	if err != nil {
		return nil, fmt.Errorf("command for %s: %w", c.name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("running command on %s: %w", c.name, context.Cause(ctx))
	}
	cn, sess, err := c.openSession(ctx, cmd.ForwardAgent)
	if err != nil {
		return nil, err
	}
	defer c.release(cn)
	defer sess.Close()

	e := &execution{c: c, cn: cn, sess: sess, cmd: cmd, line: c.reportPrefix() + line}
	return e.run(ctx)
}

// execution is one command on one session.
type execution struct {
	c    *Client
	cn   *conn
	sess *ssh.Session
	cmd  *runner.Cmd
	line string

	stdin    capture.Input
	pty      bool
	failed   chan error // the first watcher error
	failOne  sync.Once
	failErr  error         // received from failed
	pgid     atomic.Int64  // the command's process group on the host, once reported
	reported chan struct{} // closed when pgid is set
}

func (e *execution) run(ctx context.Context) (*runner.Result, error) {
	cmd := e.cmd
	res := &runner.Result{Host: e.c.name, ExitCode: -1}
	e.failed = make(chan error, 1)

	stdinPipe, err := e.sess.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("running command on %s: %w", e.c.name, err)
	}
	e.stdin.Set(stdinPipe)
	stdout, err := e.sess.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("running command on %s: %w", e.c.name, err)
	}
	stderr, err := e.sess.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("running command on %s: %w", e.c.name, err)
	}

	// A pseudo-terminal, with the user's terminal in raw mode.
	termFile, isTerm := terminal(cmd.Stdin)
	e.pty = cmd.Pty == runner.PtyOn || (cmd.Pty == runner.PtyAuto && isTerm)
	if e.pty {
		w, h := 80, 24
		if isTerm {
			if tw, th, err := term.GetSize(int(termFile.Fd())); err == nil && tw > 0 && th > 0 {
				w, h = tw, th
			}
		}
		termName := os.Getenv("TERM")
		if termName == "" {
			termName = "xterm-256color"
		}
		modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
		if err := e.sess.RequestPty(termName, h, w, modes); err != nil {
			return nil, fmt.Errorf("requesting a pseudo-terminal on %s: %w; run with pty off", e.c.name, err)
		}
		if isTerm {
			state, err := term.MakeRaw(int(termFile.Fd()))
			if err == nil {
				defer term.Restore(int(termFile.Fd()), state)
			}
			stopResize := watchResize(termFile, e.sess)
			defer stopResize()
		}
	}

	stdoutW, stderrW := capture.Writers(cmd.Stdout, cmd.Stderr)
	outSink := capture.NewSink(responder.Stdout, cmd, stdoutW, &e.stdin, e.fail)
	errSink := capture.NewSink(responder.Stderr, cmd, stderrW, &e.stdin, e.fail)
	e.reported = make(chan struct{})
	scan := newPIDScanner(e.c.nonce, func(pid int, shell string) {
		e.pgid.Store(int64(pid))
		close(e.reported)
		if shell != "" {
			e.c.learnShell(shell)
		}
	})
	scanned := errSink
	if e.pty {
		scanned = outSink // stdout and stderr are one terminal
	}
	scanned.Filter, scanned.Flush = scan.filter, scan.flush

	start := time.Now()
	if err := e.sess.Start(e.line); err != nil {
		if cause := e.cn.cause(); cause != nil {
			res.Duration = time.Since(start)
			return res, fmt.Errorf("%w on %s: %w", runner.ErrOutcomeUnknown, e.c.name, cause)
		}
		return nil, fmt.Errorf("starting command on %s: %w", e.c.name, err)
	}

	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); outSink.CopyFrom(stdout, make([]byte, 32<<10)) }()
	go func() { defer readers.Done(); errSink.CopyFrom(stderr, make([]byte, 32<<10)) }()

	stopInput := e.forwardInput()
	defer stopInput()

	waited := make(chan error, 1)
	go func() { waited <- e.sess.Wait() }()

	why, waitErr := e.wait(ctx, waited)
	if waitErr != errAbandoned {
		readers.Wait() // the channel has closed: the readers drain to EOF
	}
	if why == capture.NotStopped {
		// A watcher may fail on the last chunk, after the command ended.
		select {
		case e.failErr = <-e.failed:
			why = capture.Failed
		default:
		}
	}
	res.Duration = time.Since(start)
	res.Stdout, res.Truncated = outSink.Detach()
	var t bool
	res.Stderr, t = errSink.Detach()
	res.Truncated = res.Truncated || t
	return e.finish(ctx, res, waitErr, why)
}

// wait waits for the command to end, or stops it on cancellation, timeout
// or a watcher's error.
func (e *execution) wait(ctx context.Context, waited <-chan error) (capture.Stop, error) {
	var timeout <-chan time.Time
	if e.cmd.Timeout > 0 {
		t := time.NewTimer(e.cmd.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var why capture.Stop
	select {
	case err := <-waited:
		return capture.NotStopped, err
	case <-ctx.Done():
		why = capture.Cancelled
	case <-timeout:
		why = capture.TimedOut
	case e.failErr = <-e.failed:
		why = capture.Failed
	}

	return why, e.stop(ctx, why, waited)
}

// stop stops the command for the reason why and waits for its session
// to end: INT (cancellation) or TERM to its process group, KILL after
// the grace period, then the session closed. See Run and capture.Stop.
func (e *execution) stop(ctx context.Context, why capture.Stop, waited <-chan error) error {
	grace := e.c.cfg.stopGrace()
	if e.pgid.Load() == 0 {
		// Stopped as it starts: the report comes before the command
		// runs, so it is at most a moment away, on a host that has
		// reported before.
		wait := grace
		if e.c.shell.Load() != shellUnknown {
			wait = e.c.stopWait()
		}
		t := time.NewTimer(wait)
		select {
		case <-e.reported:
		case err := <-waited:
			t.Stop()
			return err
		case <-t.C:
		}
		t.Stop()
	}
	sig := ssh.SIGTERM
	if why.Interrupts() {
		sig = ssh.SIGINT
	}
	switch pgid := int(e.pgid.Load()); {
	case e.pty && sig == ssh.SIGINT:
		// What the user's Ctrl-C would do: the remote terminal turns it
		// into SIGINT for the foreground process group.
		_, _ = e.stdin.Write([]byte{0x03})
	case pgid > 0:
		e.c.signalGroup(ctx, pgid, string(sig))
	case e.pty:
		_, _ = e.stdin.Write([]byte{0x03})
	default:
		_ = e.sess.Signal(sig)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-waited:
		e.killLeftovers(ctx)
		return err
	case <-t.C:
	}
	if pgid := int(e.pgid.Load()); pgid > 0 {
		e.c.signalGroup(ctx, pgid, string(ssh.SIGKILL))
	} else if !e.pty {
		_ = e.sess.Signal(ssh.SIGKILL)
	}
	if pgid := int(e.pgid.Load()); pgid > 0 || !e.pty {
		t.Reset(grace)
		select {
		case err := <-waited:
			return err
		case <-t.C:
		}
	}
	// Closing the channel hangs up the remote terminal (SIGHUP to its
	// processes) and frees the session.
	_ = e.sess.Close()
	t.Reset(grace)
	select {
	case err := <-waited:
		return err
	case <-t.C:
		// sshd holds the channel open while any process keeps its
		// output open (a background child that ignored the signals and
		// left the group). Stop waiting; the connection stays usable
		// for other sessions.
		return errAbandoned
	}
}

// killLeftovers kills what is left in the process group of a stopped
// command whose shell has ended: children that ignored the signal, with
// their output elsewhere.
func (e *execution) killLeftovers(ctx context.Context) {
	if pgid := int(e.pgid.Load()); pgid > 0 {
		e.c.signalGroup(ctx, pgid, string(ssh.SIGKILL))
	}
}

// errAbandoned says a stopped session was given up on before it closed.
var errAbandoned = errors.New("stopped session did not close")

// finish maps the session's end to the runner's results and errors.
func (e *execution) finish(ctx context.Context, res *runner.Result, waitErr error, why capture.Stop) (*runner.Result, error) {
	host := e.c.name
	end := capture.End{Stop: why, Timeout: e.cmd.Timeout, WatcherErr: e.failErr,
		Exit: &runner.ExitError{Command: e.cmd.Command, Host: host, Code: -1}}
	var exit *ssh.ExitError
	known := true
	switch {
	case waitErr == nil:
		res.ExitCode, end.Exit.Code = 0, 0
	case errors.As(waitErr, &exit):
		res.ExitCode, end.Exit.Code = exit.ExitStatus(), exit.ExitStatus()
		if sig := exit.Signal(); sig != "" {
			end.Exit.Signal = signalName(sig)
		}
	default: // *ssh.ExitMissingError, or the connection failed
		known = false
	}
	if err := end.StopErr(ctx); err != nil {
		return res, err
	}
	if !known {
		cause := e.cn.cause()
		if cause == nil {
			cause = errors.New("the session ended without an exit status")
		}
		return res, fmt.Errorf("%w on %s: %w; check whether the command ran before retrying it", runner.ErrOutcomeUnknown, host, cause)
	}
	return res, end.ExitErr()
}

// signalName turns an SSH signal name ("INT") into the name Go's
// syscall.Signal prints ("interrupt"), as the local runner reports it.
func signalName(sig string) string {
	names := map[string]string{
		"ABRT": "aborted", "ALRM": "alarm clock", "FPE": "floating point exception",
		"HUP": "hangup", "ILL": "illegal instruction", "INT": "interrupt", "KILL": "killed",
		"PIPE": "broken pipe", "QUIT": "quit", "SEGV": "segmentation fault",
		"TERM": "terminated", "USR1": "user defined signal 1", "USR2": "user defined signal 2",
	}
	if n, ok := names[sig]; ok {
		return n
	}
	return sig
}

// commandLine builds what the remote login shell runs.
func commandLine(cmd *runner.Cmd) (string, error) {
	line := cmd.Command
	if len(cmd.Env) > 0 {
		// One sh that exports the quoted assignments and runs the
		// command: any login shell can start it (fish and csh too), and it
		// is one program fewer per command than env ... sh -c.
		words := []string{"export"}
		for _, kv := range cmd.Env {
			k, _, ok := strings.Cut(kv, "=")
			if !ok || !validName(k) {
				return "", fmt.Errorf("environment entry %q is not NAME=value with NAME made of letters, digits and _", kv)
			}
			words = append(words, shell.Quote(kv))
		}
		line = "sh -c " + shell.Quote(strings.Join(words, " ")+"; "+cmd.Command)
	}
	if cmd.Dir != "" {
		line = "cd " + quoteDir(cmd.Dir) + " && " + line
	}
	return line, nil
}

func validName(k string) bool {
	if k == "" || ('0' <= k[0] && k[0] <= '9') {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// quoteDir quotes a directory for cd, leaving a leading ~ or ~/ for the
// remote shell to expand to the login user's home.
func quoteDir(dir string) string {
	switch {
	case dir == "~":
		return "~"
	case strings.HasPrefix(dir, "~/"):
		rest := strings.TrimLeft(dir[2:], "/")
		if rest == "" {
			return "~/"
		}
		return "~/" + shell.Quote(rest)
	case strings.HasPrefix(dir, "-"):
		return shell.Quote("./" + dir)
	}
	return shell.Quote(dir)
}

// terminal reports whether r is a terminal.
func terminal(r io.Reader) (*os.File, bool) {
	f, ok := r.(*os.File)
	if !ok || f == nil {
		return nil, false
	}
	return f, term.IsTerminal(int(f.Fd()))
}

// forwardInput copies Cmd.Stdin to the session. At the end of Cmd.Stdin
// (at once when it is nil) the command is told there is no more input,
// unless there are watchers, which may still have to answer a prompt:
// with pipes the session's stdin is closed; under a pty, where SSH has no
// way to close the input (OpenSSH ignores it), a Ctrl-D (VEOF) is typed
// and the channel stays open so that a Ctrl-C can still be sent. The
// returned function stops the copy (see capture.Forwarder).
func (e *execution) forwardInput() (stop func()) {
	endInput := func() {
		if len(e.cmd.Watchers) > 0 {
			return
		}
		if e.pty {
			_, _ = e.stdin.Write([]byte{0x04})
			return
		}
		e.stdin.Close()
	}
	if e.cmd.Stdin == nil {
		endInput()
		return func() {}
	}
	f := &capture.Forwarder{Src: e.cmd.Stdin, Dst: &e.stdin, Hold: e.cmd.HoldInput, AtEOF: endInput}
	if file, ok := f.Src.(*os.File); ok {
		// A pending read(2) of the user's terminal would steal the
		// first bytes meant for the next command: read it only once
		// poll(2) says there is something to read.
		if r, err := capture.NewPollReader(file); err == nil {
			f.Src, f.Release = r, r.Close
		}
	}
	return f.Start()
}

// fail stops the command because a watcher returned err.
func (e *execution) fail(err error) {
	e.failOne.Do(func() { e.failed <- err })
}
