package task

import (
	"bytes"
	"io"
	"sync"
)

// lineWriter writes whole lines to a shared writer, each line prefixed,
// so that lines from tasks or hosts running at the same time never mix
// mid-line. Writers that share an underlying writer share its lock.
type lineWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
}

// newLineWriter returns a lineWriter on w; every writer sharing w must
// share mu too.
func newLineWriter(mu *sync.Mutex, w io.Writer, prefix string) *lineWriter {
	return &lineWriter{mu: mu, w: w, prefix: []byte(prefix)}
}

// Write buffers p and writes every complete line in it.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	i := bytes.LastIndexByte(l.buf, '\n')
	if i < 0 {
		if len(l.buf) > 64<<10 { // a line this long is written as it is
			l.emit(l.buf)
			l.buf = l.buf[:0]
		}
		return len(p), nil
	}
	l.emit(l.buf[:i+1])
	l.buf = append(l.buf[:0], l.buf[i+1:]...)
	return len(p), nil
}

func (l *lineWriter) emit(b []byte) {
	var out []byte
	if len(l.prefix) == 0 {
		out = b
	} else {
		for len(b) > 0 {
			j := bytes.IndexByte(b, '\n') + 1
			if j == 0 {
				j = len(b)
			}
			out = append(out, l.prefix...)
			out = append(out, b[:j]...)
			b = b[j:]
		}
	}
	l.mu.Lock()
	_, _ = l.w.Write(out)
	l.mu.Unlock()
}

// Flush writes a last unterminated line, ending it with a newline.
func (l *lineWriter) Flush() {
	if len(l.buf) > 0 {
		l.emit(append(l.buf, '\n'))
		l.buf = l.buf[:0]
	}
}
