package local

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/gotask/gotask/runner/internal/capture"
)

// outputPipe returns a pipe for one output stream of a command: the read
// end as a raw non-blocking descriptor, which pipeIO polls itself (like
// the pty master, it stays out of Go's poller), and the write end as a
// blocking file for the child. Both are close-on-exec; exec gives the
// child its own copy.
func outputPipe() (r int, w *os.File, err error) {
	var p [2]int
	if err := pipeCloexec(&p); err != nil {
		return -1, nil, fmt.Errorf("output pipe: %w", err)
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return -1, nil, fmt.Errorf("output pipe: %w", err)
	}
	return p[0], os.NewFile(uintptr(p[1]), "|1"), nil
}

// pipeIO carries a command's stdout and stderr from their pipes to their
// sinks until the command's process has exited, on the goroutine that
// runs the command, with one wait (see waitReady) on both pipes and the
// process's exitNotice, as ptyIO does for a pseudo-terminal: no reader
// goroutine per stream, no hand-off between them.
type pipeIO struct {
	p     *process
	fds   [2]int // stdout's and stderr's read ends
	sinks [2]*capture.Sink
	wait  func([]unix.PollFd) error // waitReady, or selectReady in tests
}

// run moves output until exit is readable, then reads what is ready
// without waiting: all of it if the command and its children are gone
// (end of file comes after the last byte), else what is there, since a
// background child may keep a pipe open for ever.
func (t *pipeIO) run(exit int) {
	buf := t.p.r.buffer()
	defer t.p.r.bufs.Put(buf)
	open := [2]bool{true, true}
	var fds [3]unix.PollFd
	var which [2]int // the stream each polled output descriptor is
	for {
		n := 1
		fds[0] = unix.PollFd{Fd: int32(exit), Events: unix.POLLIN}
		for i := range t.fds {
			if open[i] {
				fds[n] = unix.PollFd{Fd: int32(t.fds[i]), Events: unix.POLLIN}
				which[n-1] = i
				n++
			}
		}
		if err := t.wait(fds[:n]); err == unix.EINTR {
			continue
		} else if err != nil {
			// Nothing can move any more: stop the command rather than
			// leave it blocked on a full pipe.
			t.p.fail(fmt.Errorf("wait for the command's output: %w", err))
			break
		}
		for j := 1; j < n; j++ {
			if fds[j].Revents != 0 {
				i := which[j-1]
				open[i] = readReady(t.fds[i], buf[:], t.sinks[i], outputBurst)
			}
		}
		if fds[0].Revents != 0 {
			break
		}
	}
	for i := range t.fds {
		if open[i] {
			readReady(t.fds[i], buf[:], t.sinks[i], 0)
		}
	}
}

// readReady hands the output that is ready on the non-blocking
// descriptor fd to out, at most limit chunks of it (0: no limit). It
// reports whether fd is still open: at its end, a pipe reads 0 bytes and
// a pseudo-terminal no process has open any more fails with EIO.
func readReady(fd int, buf []byte, out *capture.Sink, limit int) bool {
	for i := 0; limit == 0 || i < limit; i++ {
		n, err := unix.Read(fd, buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return true
		case err != nil || n == 0:
			return false
		}
		out.Handle(buf[:n])
	}
	return true
}
