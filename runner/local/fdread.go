package local

import (
	"errors"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// pollReader reads a blocking file descriptor (a pty master, the user's
// terminal, an inherited pipe) without ever parking a goroutine in read(2):
// it waits with poll(2) in short slices and gives up once stop is set and
// nothing more is ready. A blocked read could not be cancelled, and would
// either hang gotask or steal input meant for the next command.
type pollReader struct {
	f    *os.File
	fd   int
	stop atomic.Bool // set when the reader should finish once drained
}

func newPollReader(f *os.File) *pollReader {
	return &pollReader{f: f, fd: int(f.Fd())}
}

// errStopped is returned by Read once stop is set and no data is ready.
var errStopped = errors.New("reader stopped")

const pollSlice = 50 * time.Millisecond

// Read waits until the descriptor is readable, then reads once. It returns
// errStopped when stop is set and the descriptor stays quiet for one slice.
func (r *pollReader) Read(p []byte) (int, error) {
	fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
	for {
		stopping := r.stop.Load()
		n, err := unix.Poll(fds, int(pollSlice/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			if stopping {
				return 0, errStopped
			}
			continue
		}
		// POLLHUP without POLLIN still means "read to learn why":
		// read returns 0 (EOF) or EIO for a pty whose slave closed.
		return r.f.Read(p)
	}
}
