package task

import (
	"bytes"
	"io"
)

// lineWriter writes whole lines, each prefixed, through a console, so
// that lines from tasks or hosts running at the same time never mix
// mid-line and the progress line stays below them. With emitLine set it
// hands each line to that function instead.
type lineWriter struct {
	c        *console
	w        io.Writer
	prefix   []byte
	emitLine func(line []byte)
	buf      []byte
}

// maxLine is how much of a line without a newline is held back before it
// is written as it is.
const maxLine = 64 << 10

// Write buffers p and writes every complete line in it.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	i := bytes.LastIndexByte(l.buf, '\n')
	if i < 0 {
		if len(l.buf) > maxLine {
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
	if l.emitLine != nil {
		for len(b) > 0 {
			j := bytes.IndexByte(b, '\n') + 1
			if j == 0 {
				j = len(b)
			}
			l.emitLine(b[:j])
			b = b[j:]
		}
		return
	}
	out := b
	if len(l.prefix) > 0 {
		out = make([]byte, 0, len(b)+8*len(l.prefix))
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
	l.c.write(l.w, out)
}

// Flush writes a last unterminated line, ending it with a newline.
func (l *lineWriter) Flush() {
	if len(l.buf) > 0 {
		l.emit(append(l.buf, '\n'))
		l.buf = l.buf[:0]
	}
}
