package local

import (
	"io"

	"github.com/gotask/gotask/responder"
)

// sink takes one output stream of a command: it streams each chunk to the
// caller's writer, keeps a bounded copy for the Result and shows the chunk
// to every watcher.
type sink struct {
	stream    responder.Stream
	p         *process
	out       io.Writer
	buf       []byte
	limit     int
	truncated bool
}

func newSink(stream responder.Stream, p *process, out io.Writer) *sink {
	return &sink{stream: stream, p: p, out: out, limit: p.cmd.CaptureLimit()}
}

// copyFrom reads r until it ends (EOF, EIO from a pty, or the poll
// reader's stop) and handles every chunk.
func (s *sink) copyFrom(r io.Reader) {
	buf := s.p.r.buffer()
	defer s.p.r.bufs.Put(buf)
	chunk := buf[:]
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			s.handle(chunk[:n])
		}
		if err != nil {
			return
		}
	}
}

func (s *sink) handle(b []byte) {
	if s.out != nil {
		// A failing writer (a closed pipe downstream) must not stop the
		// command or lose the capture; the error is the caller's to see.
		_, _ = s.out.Write(b)
	}
	if room := s.limit - len(s.buf); room > 0 {
		if len(b) > room {
			s.buf = append(s.buf, b[:room]...)
			s.truncated = true
		} else {
			s.buf = append(s.buf, b...)
		}
	} else if len(b) > 0 && s.limit >= 0 {
		s.truncated = s.truncated || s.limit > 0
	}
	for _, w := range s.p.cmd.Watchers {
		if err := w.Watch(s.stream, b, stdinWriter{s.p}); err != nil {
			s.p.fail(err)
			return
		}
	}
}

func (s *sink) captured() ([]byte, bool) { return s.buf, s.truncated }
