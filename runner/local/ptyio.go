package local

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gotask/gotask/runner/internal/capture"
)

// outputBurst bounds how many chunks of output ptyIO reads before it
// looks at its input again, so that a keystroke (Ctrl-C) is not held up
// behind a flood of output.
const outputBurst = 16

// ptyIO carries a command's output from the master side of its
// pseudo-terminal to a sink, and its input (forwarded and answered) the
// other way, until the command's process has exited. It does it all on
// the goroutine that runs the command, with one wait (see waitReady) on
// the master, the input and the process's exitNotice: no goroutine per
// stream, no hand-off from one to another, and no descriptor in Go's
// poller, where each one added (as pty.Open adds both sides) wakes
// whichever thread waits there. Those were most of what a short command
// cost beyond its fork and exec.
type ptyIO struct {
	p      *process
	master int // the master's descriptor, non-blocking
	out    *capture.Sink
	wait   func([]unix.PollFd) error // waitReady, or selectReady in tests

	// Guarded by p.stdin (Lock), as p.stdin is how watchers write:
	pending []byte // input the terminal has not taken yet
	closed  bool   // the terminal takes no more input
}

// Write gives b to the command's terminal: what it takes now, the rest
// once it has room. It never waits. The caller holds p.stdin.
func (t *ptyIO) Write(b []byte) (int, error) {
	if t.closed {
		return 0, capture.ErrInputClosed
	}
	n := 0
	if len(t.pending) == 0 {
		var err error
		if n, err = writeReady(t.master, b); err != nil {
			t.closed = true // EIO: no process has the terminal open any more
			return n, err
		}
	}
	t.pending = append(t.pending, b[n:]...)
	return len(b), nil
}

// flush writes what the terminal has room for of the pending input. The
// caller holds p.stdin.
func (t *ptyIO) flush() {
	n, err := writeReady(t.master, t.pending)
	if err != nil {
		t.closed, t.pending = true, nil
		return
	}
	t.pending = append(t.pending[:0], t.pending[n:]...)
}

func (t *ptyIO) waiting() bool {
	t.p.stdin.Lock()
	defer t.p.stdin.Unlock()
	return len(t.pending) > 0
}

// run moves output and input until exit is readable, then reads the
// output that is left: all of it if the command's terminal is now
// closed (EIO comes after the last byte), else what is ready, since a
// background child may keep the terminal open for ever. in is the
// descriptor of the input to forward, or -1; it is read only while the
// terminal can take what was read before, so that input the command
// never reads stays for whoever reads next, and not at all while
// Cmd.HoldInput holds it.
func (t *ptyIO) run(in, exit int) {
	buf := t.p.r.buffer()
	defer t.p.r.bufs.Put(buf)
	open := true // some process still has the terminal open
	hold := t.p.cmd.HoldInput
	fds := make([]unix.PollFd, 0, 3)
	for {
		if hold != nil {
			select {
			case <-hold:
				hold = nil // a watcher let the input go
			default:
			}
		}
		fds = append(fds[:0], unix.PollFd{Fd: int32(exit), Events: unix.POLLIN})
		if open {
			events, waiting := int16(unix.POLLIN), t.waiting()
			if waiting {
				events |= unix.POLLOUT
			}
			fds = append(fds, unix.PollFd{Fd: int32(t.master), Events: events})
			if in >= 0 && !waiting && hold == nil {
				fds = append(fds, unix.PollFd{Fd: int32(in), Events: unix.POLLIN})
			}
		}
		if err := t.wait(fds); err == unix.EINTR {
			continue
		} else if err != nil {
			// Nothing can move any more: stop the command rather
			// than leave it blocked on a full terminal.
			t.p.fail(fmt.Errorf("wait for the command's terminal: %w", err))
			break
		}
		if len(fds) > 1 && fds[1].Revents != 0 {
			if fds[1].Revents&unix.POLLOUT != 0 {
				t.p.stdin.Lock()
				t.flush()
				t.p.stdin.Unlock()
			}
			if fds[1].Revents&^unix.POLLOUT != 0 {
				open = t.readOutput(buf[:], outputBurst)
			}
		}
		if len(fds) > 2 && fds[2].Revents != 0 && open && !t.forward(in, buf[:]) {
			in = -1
		}
		if fds[0].Revents != 0 {
			break
		}
	}
	if open {
		t.readOutput(buf[:], 0)
	}
	t.p.stdin.Lock()
	t.closed, t.pending = true, nil
	t.p.stdin.Unlock()
}

// readOutput hands the output that is ready to the sink, at most limit
// chunks of it (0: no limit), and reports whether the terminal is still
// open (see readReady).
func (t *ptyIO) readOutput(buf []byte, limit int) bool {
	return readReady(t.master, buf, t.out, limit)
}

// forward reads input from in once and gives it to the terminal. It
// reports whether there may be more to forward.
func (t *ptyIO) forward(in int, buf []byte) bool {
	n, err := unix.Read(in, buf)
	switch {
	case err == unix.EINTR || err == unix.EAGAIN:
		return true
	case err != nil || n == 0:
		// End of input: a pseudo-terminal has no end of file to pass
		// on, so the command's stdin stays open, as for a watcher.
		return false
	}
	t.p.stdin.Lock()
	defer t.p.stdin.Unlock()
	_, err = t.Write(buf[:n])
	return err == nil
}

// writeReady writes what fd takes of b without waiting.
func writeReady(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := unix.Write(fd, b[n:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return n, nil
		case err != nil:
			return n, err
		}
		n += k
	}
	return n, nil
}

// ptyInput returns the descriptor that ptyIO reads the command's input
// from, or -1 when there is none, and a function that stops it once the
// command has ended. Input that can be polled (a terminal or pipe opened
// again, a regular file) is read directly; anything else is copied by a
// goroutine into a pipe that can.
func (p *process) ptyInput() (fd int, stop func(), err error) {
	src := p.cmd.Stdin
	if src == nil {
		return -1, func() {}, nil
	}
	var in capture.StopReader
	release := func() {}
	if f, ok := src.(*os.File); ok {
		r, rel, err := openInput(f, p.shared)
		switch fr, isFile := r.(*fileReader); {
		case err != nil:
			// Read f as it is, as a plain io.Reader.
		case r == nil:
			return -1, func() {}, nil // /dev/null: nothing to forward, ever
		case isFile:
			return sysfd(fr.f), rel, nil
		default:
			in, release, src = r, rel, r
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		release()
		return -1, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer w.Close()
		buf := p.r.buffer()
		defer p.r.bufs.Put(buf)
		_, _ = io.CopyBuffer(w, src, buf[:])
	}()
	return sysfd(r), func() {
		_ = w.SetWriteDeadline(time.Now()) // ptyIO reads no more
		if in != nil {
			in.Stop(false) // the rest of the input is the next command's
			<-done
			release()
		}
		// A plain io.Reader cannot be interrupted: its copier ends at
		// its next read, as the pipe is closed.
		r.Close()
	}, nil
}
