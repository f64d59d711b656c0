package service

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// Host is a machine other than this one that instances run on, as the
// caller reaches it (gotask's cli: over SSH). The supervisor does not
// care where a process runs: restarts, backoff and rolling restarts are
// the same; only starting, signalling and readiness go through a Host.
type Host interface {
	// Start starts c.Line on the host (with c.Dir and c.Env) as a
	// process group of its own, copying its output to stdout and
	// stderr. c.Ready is not used.
	Start(ctx context.Context, c Command, stdout, stderr io.Writer) (HostProcess, error)
	// DialContext connects to addr from the host's side: ready.tcp and
	// ready.http are checked through it, so 127.0.0.1 is the host's.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// HostProcess is one process group that Host.Start started.
type HostProcess interface {
	// Pid returns the id of the process group on the host.
	Pid() int
	// Signal sends sig to the whole process group, waiting (a bounded
	// time) until it has been sent.
	Signal(sig syscall.Signal)
	// Done is closed once the process has ended.
	Done() <-chan struct{}
	// Exit says, once Done is closed, how it ended: "exit 1",
	// "signal KILL", or why it is unknown; and whether it exited 0.
	Exit() (how string, success bool)
	// Close kills what is left of the group and frees what the process
	// held (its session). It is called once the process has ended.
	Close()
}

// startHostProcess starts c on h as an instance's process.
func startHostProcess(ctx context.Context, h Host, c Command, stdout, stderr io.Writer) (*process, error) {
	for _, w := range []*io.Writer{&stdout, &stderr} {
		if *w == nil {
			*w = io.Discard
		}
	}
	hp, err := h.Start(ctx, c, stdout, stderr)
	if err != nil {
		return nil, err
	}
	p := &process{host: hp, conn: h, pid: hp.Pid(), start: time.Now(), exited: make(chan struct{})}
	go func() {
		<-hp.Done()
		close(p.exited)
	}()
	return p, nil
}

// hostReadyCheck returns the check of cmd.Ready run from h: sh on the
// host, tcp and http dialled from its side.
func hostReadyCheck(h Host, cmd Command, timeout time.Duration) func(context.Context) error {
	timeout = max(timeout, time.Second)
	r := cmd.Ready
	switch {
	case r.HTTP != "", r.TCP != "":
		return dialCheck(r, timeout, h.DialContext)
	case r.Sh != "":
		return func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 10*timeout)
			defer cancel()
			c := Command{Line: r.Sh, Dir: cmd.Dir, Env: cmd.Env}
			hp, err := h.Start(ctx, c, io.Discard, io.Discard)
			if err != nil {
				return err
			}
			defer hp.Close()
			select {
			case <-hp.Done():
			case <-ctx.Done():
				hp.Signal(syscall.SIGKILL)
				<-hp.Done()
				return context.Cause(ctx)
			}
			if how, ok := hp.Exit(); !ok {
				return fmt.Errorf("ready.sh: %s", how)
			}
			return nil
		}
	}
	return nil
}
