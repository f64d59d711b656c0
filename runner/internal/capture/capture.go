// Package capture is the plumbing runner/local and runner/remote share:
// the sink that streams, captures and watches a command's output, the
// serialised writer watchers answer on, and the one model of why a
// command ended that turns into the errors of package runner. Both
// runners build their results here, so that the same event (an exit
// status, a timeout, a cancelled context, a failed watcher) reads the
// same to a caller whichever runner it came from.
package capture

import (
	"errors"
	"io"
	"sync"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// A Sink takes one output stream of a command: it streams each chunk to
// the caller's writer, keeps a bounded copy for the Result and shows the
// chunk to every watcher, which may answer on the command's input. Its
// methods may be called from any goroutine.
type Sink struct {
	stream   responder.Stream
	out      io.Writer
	limit    int
	tail     bool // keep the last limit bytes, not the first
	watchers []responder.Watcher
	stdin    io.Writer
	fail     func(error)

	// Filter, when set, takes each chunk before anything else sees it
	// and returns what of it is output; Flush returns what Filter still
	// holds back, at the end of the stream. CopyFrom calls them.
	Filter func([]byte) []byte
	Flush  func() []byte

	mu        sync.Mutex
	detached  bool
	buf       []byte
	truncated bool
}

// NewSink returns a sink for one stream of cmd that writes live output to
// out (nil discards it). Watchers answer on stdin; the first watcher
// error goes to fail, which stops the command, and no watcher sees
// anything after it.
func NewSink(stream responder.Stream, cmd *runner.Cmd, out io.Writer, stdin io.Writer, fail func(error)) *Sink {
	limit, tail := cmd.CaptureLimit()
	return &Sink{stream: stream, out: out, limit: limit, tail: tail, watchers: cmd.Watchers, stdin: stdin, fail: fail}
}

// CopyFrom reads r into the sink until Read fails (end of file, or the
// reader was stopped), through chunk, a buffer of the caller's.
func (s *Sink) CopyFrom(r io.Reader, chunk []byte) {
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			b := chunk[:n]
			if s.Filter != nil {
				b = s.Filter(b)
			}
			s.Handle(b)
		}
		if err != nil {
			if s.Flush != nil {
				s.Handle(s.Flush())
			}
			return
		}
	}
}

// Handle takes one chunk of output.
func (s *Sink) Handle(b []byte) {
	if len(b) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detached {
		return
	}
	if s.out != nil {
		// A failing writer (a closed pipe downstream) must not stop the
		// command or lose the capture; the error is the caller's to see.
		_, _ = s.out.Write(b)
	}
	switch {
	case s.tail:
		s.keepTail(b)
	case s.limit > 0:
		room := s.limit - len(s.buf)
		if len(b) > room {
			s.buf = append(s.buf, b[:max(room, 0)]...)
			s.truncated = true
		} else {
			s.buf = append(s.buf, b...)
		}
	}
	for _, w := range s.watchers {
		if err := w.Watch(s.stream, b, s.stdin); err != nil {
			s.watchers = nil
			s.fail(err)
			return
		}
	}
}

// keepTail keeps the last s.limit bytes of the output, b included, in a
// buffer of twice that: the kept bytes move to its front only when it is
// full, so a stream costs about one copy of each byte, and only of the
// bytes that can still be kept (the end of a large chunk).
func (s *Sink) keepTail(b []byte) {
	if len(b) >= s.limit {
		s.truncated = s.truncated || len(s.buf) > 0 || len(b) > s.limit
		if s.buf == nil {
			s.buf = make([]byte, 0, 2*s.limit)
		}
		s.buf = append(s.buf[:0], b[len(b)-s.limit:]...)
		return
	}
	if len(s.buf)+len(b) > cap(s.buf) && cap(s.buf) >= 2*s.limit {
		keep := s.limit - len(b) // of the old bytes
		s.truncated = true
		s.buf = append(s.buf[:0], s.buf[len(s.buf)-keep:]...)
	}
	if s.buf == nil {
		s.buf = make([]byte, 0, 2*s.limit)
	}
	s.buf = append(s.buf, b...)
}

// Detach returns the capture and whether output went past its bound, and
// stops the sink from touching the caller's writer or the watchers
// again, even if its reader still runs (an abandoned session).
func (s *Sink) Detach() (captured []byte, truncated bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detached = true
	if s.tail && len(s.buf) > s.limit {
		s.buf, s.truncated = s.buf[len(s.buf)-s.limit:], true
	}
	return s.buf, s.truncated
}

// ErrInputClosed is what a write to a command's input returns once the
// input is closed or the command is gone.
var ErrInputClosed = errors.New("command's stdin is closed")

// Input is a command's input as the input forwarder and the watchers
// write it: one Write at a time, to a writer that may be set late and
// closed early. The zero value is closed until Set.
type Input struct {
	mu sync.Mutex
	w  io.Writer
}

// Set makes w the writer that Write writes to.
func (in *Input) Set(w io.Writer) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.w = w
}

// Write writes b to the input, or fails with ErrInputClosed.
func (in *Input) Write(b []byte) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.w == nil {
		return 0, ErrInputClosed
	}
	return in.w.Write(b)
}

// Close closes the writer, if it is an io.Closer, and makes every later
// Write fail. It is safe to call more than once.
func (in *Input) Close() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	w := in.w
	in.w = nil
	if c, ok := w.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Lock holds back every Write until Unlock, for a writer whose own state
// Write guards (see runner/local's ptyIO).
func (in *Input) Lock() { in.mu.Lock() }

// Unlock lets Writes go on again after Lock.
func (in *Input) Unlock() { in.mu.Unlock() }

// Writers returns the writers for a command's stdout and stderr sinks:
// stdout and stderr themselves, except that one writer given for both is
// wrapped so that it sees one Write at a time, as os/exec does, since the
// two streams are read concurrently.
func Writers(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	if stdout != nil && sameWriter(stdout, stderr) {
		lw := &lockedWriter{w: stdout}
		return lw, lw
	}
	return stdout, stderr
}

// sameWriter reports whether a and b are the same comparable writer.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false // not comparable: a func or map inside an interface
		}
	}()
	return a == b
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
