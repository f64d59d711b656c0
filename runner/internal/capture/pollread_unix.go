//go:build unix

package capture

import (
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// PollReader reads a blocking file descriptor (the user's terminal, an
// inherited pipe) without ever parking a goroutine in read(2): it waits
// with poll(2) on the descriptor and on a wake-up pipe, so that Stop
// takes effect at once. A goroutine left blocked in read(2) would steal
// the first bytes meant for the next command. It costs a thread while
// it waits.
type PollReader struct {
	f            *os.File
	wakeR, wakeW *os.File
	mode         atomic.Int32 // running, draining or stopped
}

// NewPollReader returns a PollReader of f. Close it once Read is no
// longer called.
func NewPollReader(f *os.File) (*PollReader, error) {
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	return &PollReader{f: f, wakeR: wakeR, wakeW: wakeW}, nil
}

// Stop ends the reader, as StopReader says.
func (r *PollReader) Stop(drain bool) {
	mode := int32(Stopped)
	if drain {
		mode = Draining
	}
	r.mode.Store(mode)
	_, _ = r.wakeW.Write([]byte{0})
}

// Close releases the wake-up pipe, once Read is no longer called.
func (r *PollReader) Close() {
	r.wakeR.Close()
	r.wakeW.Close()
}

// Read waits until the descriptor is readable, then reads once. Once the
// reader is stopped it returns ErrStopped.
func (r *PollReader) Read(p []byte) (int, error) {
	fds := []unix.PollFd{
		{Fd: int32(fdOf(r.f)), Events: unix.POLLIN},
		{Fd: int32(fdOf(r.wakeR)), Events: unix.POLLIN},
	}
	for {
		mode := r.mode.Load()
		if mode == Stopped {
			return 0, ErrStopped
		}
		timeout := -1
		if mode == Draining {
			timeout = 0
		}
		_, err := unix.Poll(fds, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if fds[0].Revents != 0 && r.mode.Load() != Stopped {
			// POLLHUP without POLLIN still means "read to learn why".
			return r.f.Read(p)
		}
		if mode == Draining {
			return 0, ErrStopped
		}
		// Woken by Stop: look at the new mode.
	}
}

// fdOf returns f's descriptor without the side effect of f.Fd, which
// makes a non-blocking file blocking.
func fdOf(f *os.File) int {
	fd := -1
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(n uintptr) { fd = int(n) })
	}
	return fd
}
