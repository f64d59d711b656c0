package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gotask/gotask/internal/shell"
	"github.com/gotask/gotask/runner"
)

// Process is a command that Start started on a host: the login shell of
// its session leads a process group there, which Signal reaches as a
// whole. It is for a caller that supervises the command itself (gotask
// up): nothing stops it but Signal and Close.
type Process struct {
	c     *Client
	e     *execution
	ended chan struct{} // closed when the session has ended; res and err are set
	res   *runner.Result
	err   error

	done      chan struct{} // closed at the exit report or the session's end
	doneOnce  sync.Once
	closeOnce sync.Once
}

// exitTag starts the line that reports a started command's exit status:
// "gotask-exit NONCE STATUS".
const exitTag = "gotask-exit "

// Start starts cmd on the Client's host in a new session and returns once
// the host has reported the command's process group, or the command has
// ended. Cmd.Stdin, Timeout, Watchers and Pty are ignored: the command
// runs without input, on pipes, until it ends or is signalled. ctx bounds
// the start only. Output goes to Cmd.Stdout and Cmd.Stderr as Run sends
// it.
//
// The command's end is known from a report its shell writes on stderr
// (taken out of the output, as the process group's report is), not from
// the session's end: a background child left in the group would hold
// the session open. Close then kills what is left.
func (c *Client) Start(ctx context.Context, cmd *runner.Cmd) (*Process, error) {
	if cmd.Nice != 0 {
		return nil, fmt.Errorf("command for %s: nice is not supported on hosts yet", c.name)
	}
	run := *cmd
	run.Stdin, run.Timeout, run.Watchers, run.Pty, run.Capture = nil, 0, nil, runner.PtyOff, -1
	line, err := commandLine(&run)
	if err != nil {
		return nil, fmt.Errorf("command for %s: %w", c.name, err)
	}
	cn, sess, err := c.openSession(ctx, run.ForwardAgent)
	if err != nil {
		return nil, err
	}
	tag := exitTag + c.nonce
	// On EXIT, so that a cd that fails (commandLine's exit 1) reports too.
	line = "sh -c " + shell.Quote("trap 'echo "+tag+" $? >&2' EXIT\n"+line)
	e := &execution{c: c, cn: cn, sess: sess, cmd: &run, line: c.reportPrefix() + line,
		reported: make(chan struct{}), exitTag: tag + " ", exited: make(chan struct{})}
	p := &Process{c: c, e: e, ended: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer p.finish()
		defer close(p.ended)
		defer c.release(cn)
		defer sess.Close()
		// Never cancelled: Signal and Close stop it.
		p.res, p.err = e.run(context.Background())
	}()
	go func() {
		select {
		case <-e.exited:
			p.finish()
		case <-p.ended:
		}
	}()
	t := time.NewTimer(c.stopWait())
	defer t.Stop()
	select {
	case <-e.reported:
	case <-p.ended:
	case <-t.C:
		p.Close()
		return nil, fmt.Errorf("starting command on %s: the host did not report the command's process group", c.name)
	case <-ctx.Done():
		p.Close()
		return nil, fmt.Errorf("starting command on %s: %w", c.name, context.Cause(ctx))
	}
	return p, nil
}

// Pgid returns the id of the command's process group on the host (the
// pid of its login shell), or 0 if the command ended before reporting it.
func (p *Process) Pgid() int { return int(p.e.pgid.Load()) }

// Signal sends sig ("TERM", "KILL", ...) to the command's whole process
// group on the host, by kill in a second session, and returns once the
// kill has run (or the host took too long to answer).
func (p *Process) Signal(ctx context.Context, sig string) {
	p.c.signalGroup(ctx, p.Pgid(), sig)
}

func (p *Process) finish() { p.doneOnce.Do(func() { close(p.done) }) }

// Done is closed once the command has ended: its shell reported its exit
// status, or the session ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the session to end (call Close first if what is left
// of the command's group may hold it open) and returns what Run would
// have: the result, and a *runner.ExitError for a command that failed.
func (p *Process) Wait() (*runner.Result, error) {
	<-p.ended
	return p.res, p.err
}

// Exit says how the ended command ended: its exit code, or the SSH name
// of the signal that killed it ("TERM", "KILL"). known is false when the
// connection was lost before the host said.
func (p *Process) Exit() (code int, signal string, known bool) {
	<-p.done
	select {
	case <-p.e.exited:
		return int(p.e.exitCode.Load()), "", true
	default:
	}
	<-p.ended
	if p.err == nil {
		return 0, "", true
	}
	var ee *runner.ExitError
	if !errors.As(p.err, &ee) {
		return -1, "", false
	}
	for short, long := range signalNames() {
		if long == ee.Signal && ee.Signal != "" {
			return ee.Code, short, true
		}
	}
	return ee.Code, "", true
}

// Close kills what is left of the command's process group (KILL), lets
// the output still on its way arrive, and ends its session: at once if a
// process that left the group (setsid) holds the output open. It returns
// when the session has ended, or the host took too long to say so.
// Close is idempotent.
func (p *Process) Close() {
	p.closeOnce.Do(func() {
		p.e.killLeftovers(context.Background())
		t := time.NewTimer(p.c.stopWait())
		defer t.Stop()
		select {
		case <-p.ended:
			return
		case <-t.C:
		}
		_ = p.e.sess.Close()
		t.Reset(p.c.stopWait())
		select {
		case <-p.ended:
		case <-t.C:
		}
	})
}

// DialContext connects to addr ("host:port") from the host's side,
// through its SSH connection (direct-tcpip): "127.0.0.1:8080" is the
// host's loopback.
func (c *Client) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	cn, err := c.acquire(ctx, false)
	if err != nil {
		return nil, err
	}
	defer c.release(cn)
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		nc, err := cn.client.Dial(network, addr)
		ch <- result{nc, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("dial %s from %s: %w", addr, c.name, r.err)
		}
		return r.conn, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, fmt.Errorf("dial %s from %s: %w", addr, c.name, context.Cause(ctx))
	}
}
