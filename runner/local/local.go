package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// Runner runs commands on this machine. The zero value is ready to use.
type Runner struct {
	// Shell is the program and leading arguments that run a command
	// line; the command is appended as the last argument. Nil means
	// {"/bin/sh", "-c"}.
	Shell []string

	// Env is the environment every command starts from, before Cmd.Env is
	// added. Nil means this process's environment without the variables
	// that hold gotask's own secrets (see SecretEnv).
	Env []string

	// StopGrace is how long an interrupted command may take to exit
	// before its whole process group is killed. Zero means 3 seconds.
	// (remote.Config.StopGrace is the same setting for SSH.)
	StopGrace time.Duration

	sharedOnce sync.Once
	shared     *shared   // what commands share while they follow one another; see sharedState
	bufs       sync.Pool // read buffers (*[32 << 10]byte), from one command to the next
	portable   bool      // tests: run pty commands as on macOS, without pidfds and with select(2)
}

// New returns a Runner with the defaults described on its fields.
func New() *Runner { return &Runner{} }

// SecretEnv lists the environment variables that gotask reads secrets from.
// They are never passed on to the commands it runs.
var SecretEnv = []string{"GOTASK_SUDO_PASSWORD", "GOTASK_LOGIN_PASSWORD"}

// Environ returns os.Environ() without SecretEnv and without the extra
// names given.
func Environ(drop ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if contains(SecretEnv, name) || contains(drop, name) {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

const drainTimeout = 100 * time.Millisecond

// Run runs cmd and waits for it. It meets the runner.Runner contract:
// the command runs in its own process group (its own session under a
// pseudo-terminal); cancelling ctx or reaching cmd.Timeout interrupts the
// whole group, then kills it after the grace period.
func (r *Runner) Run(ctx context.Context, cmd *runner.Cmd) (*runner.Result, error) {
	if ctx.Err() != nil {
		// Never start what was already called off: Ctrl-C during an
		// up-to-date check must not be followed by the command.
		return nil, fmt.Errorf("command not started: %w", context.Cause(ctx))
	}
	if cmd.Dir != "" {
		if err := checkDir(cmd.Dir); err != nil {
			return nil, err
		}
	}
	shell := r.Shell
	if len(shell) == 0 {
		shell = []string{"/bin/sh", "-c"}
	}
	c := exec.Command(shell[0], append(shell[1:len(shell):len(shell)], cmd.Command)...)
	c.Dir = cmd.Dir
	c.Env = r.Env
	if c.Env == nil {
		c.Env = Environ()
	}
	c.Env = append(c.Env[:len(c.Env):len(c.Env)], cmd.Env...)

	p := &process{r: r, shared: r.sharedState(), cmd: cmd, exec: c, grace: r.StopGrace}
	if p.grace == 0 {
		p.grace = 3 * time.Second
	}
	var userTTY *os.File // the user's terminal, if Stdin is one
	if f, ok := cmd.Stdin.(*os.File); ok && cmd.Pty != runner.PtyOff && isTerminal(f) {
		userTTY = f
	}
	if cmd.Pty == runner.PtyOn || userTTY != nil {
		return p.runPty(ctx, userTTY)
	}
	return p.runPipes(ctx)
}

// checkDir reports a working directory that is missing or no directory,
// which exec would report as the shell itself missing.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("working directory %s does not exist; create it or change the task's dir", dir)
	case err != nil:
		return fmt.Errorf("working directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("working directory %s is not a directory; change the task's dir", dir)
	}
	return nil
}

// sharedState returns what r's commands share, made on first use. It is
// let go once r is garbage: what a command starts (the resize goroutine)
// holds the shared state, not r.
func (r *Runner) sharedState() *shared {
	r.sharedOnce.Do(func() {
		r.shared = &shared{}
		runtime.AddCleanup(r, (*shared).letGo, r.shared)
	})
	return r.shared
}

// buffer returns a read buffer from r.bufs, or a new one. Commands put
// theirs back when done: a fresh 32 KB per stream was a measurable part
// of running many short commands.
func (r *Runner) buffer() *[32 << 10]byte {
	if b, ok := r.bufs.Get().(*[32 << 10]byte); ok {
		return b
	}
	return new([32 << 10]byte)
}

// process is one run of one command.
type process struct {
	r      *Runner
	shared *shared
	cmd    *runner.Cmd
	exec   *exec.Cmd
	grace  time.Duration

	stdinMu sync.Mutex
	stdin   io.Writer // where answers and forwarded input go

	mu      sync.Mutex
	why     stopReason  // why the command was stopped, if it was
	failErr error       // a watcher's error, which stopped the command
	kill    *time.Timer // kills the process group once the grace period is over
	reaped  bool        // the process is gone: its ids may belong to others
}

// writeStdin serialises writes from the input forwarder and watchers.
type stdinWriter struct{ p *process }

func (w stdinWriter) Write(b []byte) (int, error) {
	w.p.stdinMu.Lock()
	defer w.p.stdinMu.Unlock()
	if w.p.stdin == nil {
		return 0, errStdinClosed
	}
	return w.p.stdin.Write(b)
}

// fail stops the command because a watcher failed with err.
func (p *process) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failErr == nil {
		p.failErr = err
	}
	p.stopLocked(stopFailed, syscall.SIGTERM)
}

// runPty runs the command on a fresh pseudo-terminal. userTTY is the
// user's terminal, or nil when there is none to serve. The calling
// goroutine moves the output and input itself (see ptyIO).
func (p *process) runPty(ctx context.Context, userTTY *os.File) (*runner.Result, error) {
	master, tty, err := openPty()
	if err != nil {
		return nil, err
	}
	defer master.Close()
	if userTTY == nil {
		_ = setSize(master, &unix.Winsize{Row: 24, Col: 80})
	}
	p.exec.Stdin, p.exec.Stdout, p.exec.Stderr = tty, tty, tty
	p.exec.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}

	in, stopInput, err := p.ptyInput()
	if err != nil {
		tty.Close()
		return nil, err
	}
	defer stopInput()
	if userTTY != nil {
		p.shared.followSize(userTTY, master)
		defer p.shared.unfollowSize(master)
		fd := sysfd(userTTY)
		state, err := term.MakeRaw(fd)
		if err == nil {
			defer term.Restore(fd, state)
		}
	}

	start := time.Now()
	if err := p.exec.Start(); err != nil {
		tty.Close()
		return nil, fmt.Errorf("start %s: %w", p.exec.Path, err)
	}
	tty.Close() // the child holds the only copies now: EIO once it is done
	defer p.watch(ctx)()
	exit, err := newExitNotice(p)
	if err != nil {
		p.signalGroup(syscall.SIGKILL) // not reaped yet: the group is still the command's
		_, _ = p.reap()
		return nil, fmt.Errorf("wait for command: %w", err)
	}
	defer exit.close()

	res := &runner.Result{ExitCode: -1}
	out := newSink(responder.Stdout, p, p.cmd.Stdout)
	t := &ptyIO{p: p, master: sysfd(master), out: out, wait: waitReady}
	if p.r.portable {
		t.wait = selectReady
	}
	p.stdinMu.Lock()
	p.stdin = t
	p.stdinMu.Unlock()
	t.run(in, exit.fd())
	stopped, waitErr := exit.reap()
	return p.finish(res, start, waitErr, stopped, out, nil)
}

// runPipes runs the command with pipes, stdout and stderr kept apart.
func (p *process) runPipes(ctx context.Context) (*runner.Result, error) {
	p.exec.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	defer outR.Close()
	defer errR.Close()
	p.exec.Stdout, p.exec.Stderr = outW, errW

	var inW *os.File
	stdinFile, isFile := p.cmd.Stdin.(*os.File)
	switch {
	case len(p.cmd.Watchers) == 0 && p.cmd.Stdin == nil:
		// exec gives the child /dev/null.
	case len(p.cmd.Watchers) == 0 && p.cmd.HoldInput == nil && isFile:
		p.exec.Stdin = stdinFile // the child reads it directly, as under a shell
	default:
		inR, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		defer inR.Close()
		p.exec.Stdin = inR
		inW = w
		p.stdin = inW
	}

	start := time.Now()
	err = p.exec.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		if inW != nil {
			inW.Close()
		}
		return nil, fmt.Errorf("start %s: %w", p.exec.Path, err)
	}
	if r, ok := p.exec.Stdin.(*os.File); ok && r != stdinFile {
		r.Close()
	}

	res := &runner.Result{ExitCode: -1}
	stdout := newSink(responder.Stdout, p, p.cmd.Stdout)
	stderr := newSink(responder.Stderr, p, p.cmd.Stderr)
	rOut, rErr := &fileReader{f: outR}, &fileReader{f: errR}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); stdout.copyFrom(rOut) }()
	go func() { defer readers.Done(); stderr.copyFrom(rErr) }()

	stopInput := func() {}
	if inW != nil {
		stopInput = p.forwardInput(len(p.cmd.Watchers) == 0)
	}
	stopWatch := p.watch(ctx)
	stopped, waitErr := p.reap()
	stopWatch()
	if inW != nil {
		_ = inW.SetWriteDeadline(time.Now()) // as in runPty
	}
	stopInput()
	rOut.Stop(true)
	rErr.Stop(true)
	readers.Wait()
	p.stdinMu.Lock()
	if inW != nil && p.stdin != nil {
		inW.Close()
	}
	p.stdin = nil
	p.stdinMu.Unlock()
	return p.finish(res, start, waitErr, stopped, stdout, stderr)
}

// forwardInput copies cmd.Stdin to the command's stdin until the command
// ends. At end of input it closes the command's stdin if closeAtEOF is set
// (a pipe that no watcher may still need to answer on); a pseudo-terminal
// is never closed, as it has no end of file. The returned function stops
// the forwarding and waits for it.
func (p *process) forwardInput(closeAtEOF bool) (stop func()) {
	if p.cmd.Stdin == nil {
		return func() {}
	}
	src := p.cmd.Stdin
	var in stopReader
	release := func() {}
	if f, ok := src.(*os.File); ok {
		var err error
		in, release, err = openInput(f, p.shared)
		switch {
		case err == nil && in == nil:
			return func() {} // nothing to forward, ever
		case err == nil:
			src = in
		}
	}
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		if hold := p.cmd.HoldInput; hold != nil {
			select {
			case <-hold:
			case <-quit:
				return // the command ended first: its input stays unread
			}
		}
		buf := p.r.buffer()
		defer p.r.bufs.Put(buf)
		_, _ = io.CopyBuffer(stdinWriter{p}, src, buf[:])
		if closeAtEOF {
			p.stdinMu.Lock()
			if c, ok := p.stdin.(io.Closer); ok {
				c.Close()
				p.stdin = nil
			}
			p.stdinMu.Unlock()
		}
	}()
	return func() {
		close(quit)
		if in == nil {
			// A plain io.Reader cannot be interrupted: give it a moment
			// to finish (an in-memory reader will), then leave it.
			select {
			case <-done:
			case <-time.After(drainTimeout):
			}
			return
		}
		in.Stop(false) // the rest of the input is the next command's
		<-done
		release()
	}
}

// watch enforces ctx, the timeout and watcher failures on the command
// until the returned function is called, once it has been reaped.
//
// It costs no goroutine that only waits: what would stop the command
// does so from a callback (context.AfterFunc, time.AfterFunc, fail).
func (p *process) watch(ctx context.Context) (stop func()) {
	stopCtx := context.AfterFunc(ctx, func() { p.stop(stopCancelled, syscall.SIGINT) })
	if p.cmd.Timeout <= 0 {
		return func() { stopCtx() }
	}
	t := time.AfterFunc(p.cmd.Timeout, func() { p.stop(stopTimeout, syscall.SIGTERM) })
	return func() {
		stopCtx()
		t.Stop()
	}
}

// reap waits for the process. stopped says why it was stopped, if it
// was.
func (p *process) reap() (stopped stopReason, err error) {
	err = p.exec.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.why != stopNone {
		p.kill.Stop()
		p.signalGroup(syscall.SIGKILL) // leave no stragglers behind
	}
	p.reaped = true
	return p.why, err
}

// stop interrupts the command's process group with sig, then kills it
// after the grace period. Only the first reason counts.
func (p *process) stop(why stopReason, sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked(why, sig)
}

func (p *process) stopLocked(why stopReason, sig syscall.Signal) {
	if p.why != stopNone || p.reaped {
		return
	}
	p.why = why
	p.signalGroup(sig)
	p.kill = time.AfterFunc(p.grace, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.reaped {
			p.signalGroup(syscall.SIGKILL)
		}
	})
}

type stopReason int

const (
	stopNone stopReason = iota
	stopCancelled
	stopTimeout
	stopFailed
)

// signalGroup sends sig to the command's process group. The caller holds
// p.mu, or knows the process has not been reaped.
func (p *process) signalGroup(sig syscall.Signal) {
	if p.exec.Process == nil {
		return
	}
	// Negative pid: the whole process group the command leads.
	_ = syscall.Kill(-p.exec.Process.Pid, sig)
}

// finish fills res and maps the process state to the runner's errors.
func (p *process) finish(res *runner.Result, start time.Time, waitErr error, why stopReason, stdout, stderr *sink) (*runner.Result, error) {
	res.Duration = time.Since(start)
	res.Stdout, res.Truncated = stdout.captured()
	if stderr != nil {
		var t bool
		res.Stderr, t = stderr.captured()
		res.Truncated = res.Truncated || t
	}
	state := p.exec.ProcessState
	if state == nil {
		return res, fmt.Errorf("wait for command: %w", waitErr)
	}
	res.ExitCode = state.ExitCode()
	ee := &runner.ExitError{Command: p.cmd.Command, Code: res.ExitCode}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.ExitCode = 128 + int(ws.Signal())
		ee.Code, ee.Signal = res.ExitCode, ws.Signal().String()
	}
	switch why {
	case stopFailed:
		return res, p.failErr
	case stopCancelled:
		ee.Signal = "interrupt"
		return res, &interruptedError{ee}
	case stopTimeout:
		ee.TimedOut, ee.Timeout = true, p.cmd.Timeout
		return res, ee
	}
	if res.ExitCode != 0 {
		return res, ee
	}
	return res, nil
}

// interruptedError is an ExitError for a command stopped because its
// context was cancelled (Ctrl-C): errors.Is reports context.Canceled.
type interruptedError struct{ *runner.ExitError }

func (e *interruptedError) Error() string { return "command interrupted" }
func (e *interruptedError) Unwrap() []error {
	return []error{e.ExitError, context.Canceled}
}
