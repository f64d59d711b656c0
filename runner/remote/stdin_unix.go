//go:build unix

package remote

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// fileReader reads an *os.File (the user's terminal, an inherited pipe)
// after poll(2) says it is readable, polling a wake-up pipe as well, so
// that stop makes a pending Read return at once. A goroutine left blocked
// in read(2) would steal the first bytes meant for the next command.
type fileReader struct {
	f        *os.File
	fd       int
	wakeR    *os.File
	wakeW    *os.File
	stopOnce sync.Once
}

func newFileReader(f *os.File) (*fileReader, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	return &fileReader{f: f, fd: int(f.Fd()), wakeR: r, wakeW: w}, nil
}

// Read returns io.EOF once stop has been called.
func (r *fileReader) Read(p []byte) (int, error) {
	fds := []unix.PollFd{
		{Fd: int32(r.fd), Events: unix.POLLIN},
		{Fd: int32(r.wakeR.Fd()), Events: unix.POLLIN},
	}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if fds[1].Revents != 0 {
			return 0, io.EOF
		}
		if fds[0].Revents != 0 {
			return r.f.Read(p)
		}
	}
}

// stop wakes a pending Read and makes every later one return io.EOF.
func (r *fileReader) stop() {
	r.stopOnce.Do(func() { r.wakeW.Close() })
}

// release frees the wake-up pipe; it is called by the goroutine that
// reads, once it is done, so that no Read polls a closed descriptor.
func (r *fileReader) release() {
	r.stop()
	r.wakeR.Close()
}

// watchResize forwards the terminal's size to the session on SIGWINCH
// until the returned function is called.
func watchResize(f *os.File, s *ssh.Session) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-ch:
				if w, h, err := term.GetSize(int(f.Fd())); err == nil {
					_ = s.WindowChange(h, w)
				}
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
