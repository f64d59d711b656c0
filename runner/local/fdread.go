package local

import (
	"errors"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// pollReader reads a blocking file descriptor (a pty master, the user's
// terminal, an inherited pipe) without ever parking a goroutine in read(2):
// it waits with poll(2) on the descriptor and on a wake-up pipe, so that
// Stop takes effect at once. A blocked read could not be cancelled, and
// would either hang gotask or steal input meant for the next command.
type pollReader struct {
	f            *os.File
	fd           int
	wakeR, wakeW *os.File
	mode         atomic.Int32 // running, draining or stopped
}

const (
	running  = iota
	draining // read what is ready now, then stop
	stopped  // read nothing more
)

func newPollReader(f *os.File) (*pollReader, error) {
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	return &pollReader{f: f, fd: int(f.Fd()), wakeR: wakeR, wakeW: wakeW}, nil
}

// errStopped is returned by Read once the reader has been stopped.
var errStopped = errors.New("reader stopped")

// Stop ends the reader: with drain set, Read still returns what is ready
// without waiting (the tail of a finished command's output); without it,
// Read reads nothing more (input that belongs to the next command).
func (r *pollReader) Stop(drain bool) {
	mode := int32(stopped)
	if drain {
		mode = draining
	}
	r.mode.Store(mode)
	_, _ = r.wakeW.Write([]byte{0})
}

// Close releases the wake-up pipe, once Read is no longer called.
func (r *pollReader) Close() {
	r.wakeR.Close()
	r.wakeW.Close()
}

// Read waits until the descriptor is readable, then reads once.
func (r *pollReader) Read(p []byte) (int, error) {
	fds := []unix.PollFd{
		{Fd: int32(r.fd), Events: unix.POLLIN},
		{Fd: int32(r.wakeR.Fd()), Events: unix.POLLIN},
	}
	for {
		mode := r.mode.Load()
		if mode == stopped {
			return 0, errStopped
		}
		timeout := -1
		if mode == draining {
			timeout = 0
		}
		_, err := unix.Poll(fds, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if fds[0].Revents != 0 && r.mode.Load() != stopped {
			// POLLHUP without POLLIN still means "read to learn why":
			// read returns 0 (EOF) or EIO for a pty whose slave closed.
			return r.f.Read(p)
		}
		if mode == draining {
			return 0, errStopped
		}
		// Woken by Stop: look at the new mode.
	}
}
