package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/internal/capture"
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
	if cmd.Nice != 0 {
		shell = append([]string{"nice", "-n", strconv.Itoa(cmd.Nice)}, shell...)
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

	stdin capture.Input // where answers and forwarded input go

	mu      sync.Mutex
	why     capture.Stop // why the command was stopped, if it was
	failErr error        // a watcher's error, which stopped the command
	kill    *time.Timer  // kills the process group once the grace period is over
	reaped  bool         // the process is gone: its ids may belong to others
}

// fail stops the command because a watcher failed with err.
func (p *process) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failErr == nil {
		p.failErr = err
	}
	p.stopLocked(capture.Failed)
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
	out := p.newSink(responder.Stdout, p.cmd.Stdout)
	t := &ptyIO{p: p, master: sysfd(master), out: out, wait: waitReady}
	if p.r.portable {
		t.wait = selectReady
	}
	p.stdin.Set(t)
	t.run(in, exit.fd())
	stopped, waitErr := exit.reap()
	return p.finish(ctx, res, start, waitErr, stopped, out, nil)
}

// runPipes runs the command with pipes, stdout and stderr kept apart.
// The calling goroutine moves the output itself (see pipeIO); input, when
// it has to be copied, goes through a goroutine (see forwardInput).
func (p *process) runPipes(ctx context.Context) (*runner.Result, error) {
	p.exec.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	outR, outW, err := outputPipe()
	if err != nil {
		return nil, err
	}
	defer unix.Close(outR)
	errR, errW, err := outputPipe()
	if err != nil {
		outW.Close()
		return nil, err
	}
	defer unix.Close(errR)
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
			outW.Close()
			errW.Close()
			return nil, err
		}
		defer inR.Close()
		p.exec.Stdin = inR
		inW = w
		p.stdin.Set(inW)
	}

	start := time.Now()
	err = p.exec.Start()
	outW.Close() // the child holds the only copies now: end of file once it is done
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
	stopWatch := p.watch(ctx)
	exit, err := newExitNotice(p)
	if err != nil {
		stopWatch()
		p.signalGroup(syscall.SIGKILL) // not reaped yet: the group is still the command's
		_, _ = p.reap()
		if inW != nil {
			inW.Close()
		}
		return nil, fmt.Errorf("wait for command: %w", err)
	}
	defer exit.close()

	res := &runner.Result{ExitCode: -1}
	wOut, wErr := capture.Writers(p.cmd.Stdout, p.cmd.Stderr)
	t := &pipeIO{p: p, fds: [2]int{outR, errR}, wait: waitReady}
	t.sinks[0] = p.newSink(responder.Stdout, wOut)
	t.sinks[1] = p.newSink(responder.Stderr, wErr)
	if p.r.portable {
		t.wait = selectReady
	}
	stopInput := func() {}
	if inW != nil {
		stopInput = p.forwardInput(len(p.cmd.Watchers) == 0)
	}
	t.run(exit.fd())
	stopped, waitErr := exit.reap()
	stopWatch()
	if inW != nil {
		_ = inW.SetWriteDeadline(time.Now()) // as in runPty
	}
	stopInput()
	p.stdin.Close() // inW, unless the end of the input closed it already
	return p.finish(ctx, res, start, waitErr, stopped, t.sinks[0], t.sinks[1])
}

// forwardInput copies cmd.Stdin to the command's stdin until the command
// ends. At end of input it closes the command's stdin if closeAtEOF is set
// (a pipe that no watcher may still need to answer on); a pseudo-terminal
// is never closed, as it has no end of file. The returned function stops
// the forwarding and waits for it (see capture.Forwarder).
func (p *process) forwardInput(closeAtEOF bool) (stop func()) {
	if p.cmd.Stdin == nil {
		return func() {}
	}
	f := &capture.Forwarder{Src: p.cmd.Stdin, Dst: &p.stdin, Hold: p.cmd.HoldInput}
	var buf *[32 << 10]byte
	if file, ok := f.Src.(*os.File); ok {
		in, release, err := openInput(file, p.shared)
		switch {
		case err == nil && in == nil:
			return func() {} // nothing to forward, ever
		case err == nil:
			// Stopping waits for the copy: its buffer can go back to
			// the pool then. (A copy from another reader may outlive
			// the command, and keeps its own buffer.)
			buf = p.r.buffer()
			f.Src, f.Release, f.Buf = in, release, buf[:]
		}
	}
	if closeAtEOF {
		f.AtEOF = func() { p.stdin.Close() }
	}
	stopCopy := f.Start()
	return func() {
		stopCopy()
		if buf != nil {
			p.r.bufs.Put(buf)
		}
	}
}

// watch enforces ctx, the timeout and watcher failures on the command
// until the returned function is called, once it has been reaped.
//
// It costs no goroutine that only waits: what would stop the command
// does so from a callback (context.AfterFunc, time.AfterFunc, fail).
func (p *process) watch(ctx context.Context) (stop func()) {
	stopCtx := context.AfterFunc(ctx, func() { p.stop(capture.Cancelled) })
	if p.cmd.Timeout <= 0 {
		return func() { stopCtx() }
	}
	t := time.AfterFunc(p.cmd.Timeout, func() { p.stop(capture.TimedOut) })
	return func() {
		stopCtx()
		t.Stop()
	}
}

// reap waits for the process. stopped says why it was stopped, if it
// was.
func (p *process) reap() (stopped capture.Stop, err error) {
	err = p.exec.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.why != capture.NotStopped {
		p.kill.Stop()
		p.signalGroup(syscall.SIGKILL) // leave no stragglers behind
	}
	p.reaped = true
	return p.why, err
}

// stop signals the command's process group as the stop policy says
// (see capture.Stop), then kills it after the grace period. Only the
// first reason counts.
func (p *process) stop(why capture.Stop) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked(why)
}

func (p *process) stopLocked(why capture.Stop) {
	if p.why != capture.NotStopped || p.reaped {
		return
	}
	p.why = why
	sig := syscall.SIGTERM
	if why.Interrupts() {
		sig = syscall.SIGINT
	}
	p.signalGroup(sig)
	p.kill = time.AfterFunc(p.grace, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.reaped {
			p.signalGroup(syscall.SIGKILL)
		}
	})
}

// signalGroup sends sig to the command's process group. The caller holds
// p.mu, or knows the process has not been reaped.
func (p *process) signalGroup(sig syscall.Signal) {
	if p.exec.Process == nil {
		return
	}
	// Negative pid: the whole process group the command leads.
	_ = syscall.Kill(-p.exec.Process.Pid, sig)
}

// newSink returns the sink for one of the command's output streams.
func (p *process) newSink(stream responder.Stream, out io.Writer) *capture.Sink {
	return capture.NewSink(stream, p.cmd, out, &p.stdin, p.fail)
}

// finish fills res and maps the process state to the runner's errors.
func (p *process) finish(ctx context.Context, res *runner.Result, start time.Time, waitErr error, why capture.Stop, stdout, stderr *capture.Sink) (*runner.Result, error) {
	res.Duration = time.Since(start)
	res.Stdout, res.Truncated = stdout.Detach()
	if stderr != nil {
		var t bool
		res.Stderr, t = stderr.Detach()
		res.Truncated = res.Truncated || t
	}
	p.mu.Lock()
	end := capture.End{Stop: why, Timeout: p.cmd.Timeout, WatcherErr: p.failErr}
	p.mu.Unlock()
	if why == capture.NotStopped && end.WatcherErr != nil {
		// A watcher failed on the last output, after the command ended.
		end.Stop = capture.Failed
	}
	state := p.exec.ProcessState
	if state == nil {
		return res, fmt.Errorf("wait for command: %w", waitErr)
	}
	res.ExitCode = state.ExitCode()
	end.Exit = &runner.ExitError{Command: p.cmd.Command, Code: res.ExitCode}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.ExitCode = 128 + int(ws.Signal())
		end.Exit.Code, end.Exit.Signal = res.ExitCode, ws.Signal().String()
	}
	return res, end.Err(ctx)
}
