package local

import (
	"errors"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gotask/gotask/runner/internal/capture"
)

// fileReader reads a file that is in Go's poller (a pipe from os.Pipe, a
// reopened terminal): a pending Read parks its goroutine, not a thread,
// and Stop wakes it with a deadline. A file outside the poller (a regular
// file, /dev/null) never makes Read wait, so Stop takes effect at the
// next Read. Either kind can also be polled and read without waiting,
// which is how ptyIO reads one.
type fileReader struct {
	f    *os.File
	mode atomic.Int32 // capture.Running, Draining or Stopped
}

func (r *fileReader) Stop(drain bool) {
	mode := int32(capture.Stopped)
	if drain {
		mode = capture.Draining
	}
	r.mode.Store(mode)
	_ = r.f.SetReadDeadline(time.Now()) // fails outside the poller, where reads do not wait
}

func (r *fileReader) Read(p []byte) (int, error) {
	switch r.mode.Load() {
	case capture.Running:
		n, err := r.f.Read(p)
		if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		if r.mode.Load() == capture.Draining {
			return r.readReady(p)
		}
	case capture.Draining:
		return r.readReady(p)
	}
	return 0, capture.ErrStopped
}

// readReady reads what is ready without waiting: the tail of a pipe
// whose writers are gone, up to its end of file.
func (r *fileReader) readReady(p []byte) (int, error) {
	n, err := 0, error(nil)
	cerr := control(r.f, func(fd int) error {
		for {
			n, err = unix.Read(fd, p)
			if err != unix.EINTR {
				return nil
			}
		}
	})
	switch {
	case cerr != nil:
		return 0, cerr
	case err == unix.EAGAIN:
		return 0, capture.ErrStopped
	case err != nil:
		return 0, err
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// openInput returns a reader of f, the user's input, that Stop ends
// without consuming input, and a function that releases it. The reader
// is nil when there is nothing to read: f is /dev/null.
//
// A regular file is read as it is (a read never waits). Anything else
// (a terminal, a pipe) is opened again through /proc, non-blocking, as a
// new open file description of its own: it can go into Go's poller
// without making f non-blocking for the other processes that share it,
// and s keeps it for the next command. What cannot be opened again (a
// socket, a pipe of another user, no /proc) is read with poll(2), by a
// capture.PollReader.
func openInput(f *os.File, s *shared) (capture.StopReader, func(), error) {
	if again := s.takeInput(f); again != nil {
		_ = again.SetReadDeadline(time.Time{}) // the last command's Stop
		return &fileReader{f: again}, func() { s.putInput(f, again) }, nil
	}
	var st unix.Stat_t
	if err := control(f, func(fd int) error { return unix.Fstat(fd, &st) }); err != nil {
		return nil, nil, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return &fileReader{f: f}, func() {}, nil
	case unix.S_IFCHR:
		if uint64(st.Rdev) == unix.Mkdev(1, 3) { // /dev/null, as in cron jobs and CI
			return nil, func() {}, nil
		}
	}
	again, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(sysfd(f)), os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err == nil {
		return &fileReader{f: again}, func() { s.putInput(f, again) }, nil
	}
	pr, err := capture.NewPollReader(f)
	if err != nil {
		return nil, nil, err
	}
	return pr, pr.Close, nil
}
