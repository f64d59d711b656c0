package output

import (
	"io"
	"os"
	"sync"
)

// spoolMem is how much of a host's grouped output is held in memory;
// the rest waits in a temporary file.
const spoolMem = 1 << 20

// spool holds one host's output for --output grouped until the host is
// done: in memory up to spoolMem, then in a temporary file, so that
// memory stays bounded however much a host prints. The file is created
// 0600 and removed from its directory at once: it is gone when gotask
// ends, however it ends. Its two streams may write at once.
type spool struct {
	mu   sync.Mutex
	mem  []byte
	f    *os.File // nil until mem is full
	tail []byte   // what came after the file failed, if it did
	full bool     // mem is full: later bytes go to f, or to tail
}

// write appends p. When no temporary file can be made or written, the
// rest stays in memory rather than being lost.
func (s *spool) write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full && len(s.mem)+len(p) > spoolMem {
		s.full = true
		if f, err := os.CreateTemp("", "gotask-grouped-*"); err == nil {
			_ = os.Remove(f.Name())
			s.f = f
		}
	}
	switch {
	case !s.full:
		s.mem = append(s.mem, p...)
	case s.f != nil && len(s.tail) == 0:
		n, err := s.f.Write(p)
		if err != nil {
			s.tail = append(s.tail, p[n:]...)
		}
	default:
		s.tail = append(s.tail, p...)
	}
}

// writeTo writes everything held to w, in the order it came, then lets
// it go.
func (s *spool) writeTo(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mem, f, tail := s.mem, s.f, s.tail
	s.mem, s.f, s.tail, s.full = nil, nil, nil, false
	if f != nil {
		defer f.Close()
	}
	if _, err := w.Write(mem); err != nil {
		return err
	}
	if f != nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.CopyBuffer(w, onlyReader{f}, make([]byte, 256<<10)); err != nil {
			return err
		}
	}
	_, err := w.Write(tail)
	return err
}

// onlyReader hides every method but Read, so that io.CopyBuffer uses the
// buffer it is given rather than w's ReadFrom.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
