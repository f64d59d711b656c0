package output

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// LineWriter writes whole lines through a Console, so that lines from
// tasks or hosts running at the same time never mix mid-line and the
// progress line stays below them. Call Flush when the writing is done.
//
// With a prefix (a host's output), every line is made safe to show
// after it (Clean): nothing a host prints can return over the prefix,
// move the cursor or leave colour on; a line longer than maxLine is cut
// into lines of its own, each with the prefix.
type LineWriter struct {
	out      func(b []byte)
	prefix   []byte
	color    bool // keep the host's colours (SGR), reset at each line's end
	emitLine func(line []byte)
	buf      []byte
}

// maxLine is how much of a line without a newline is held back before it
// is written as it is.
const maxLine = 64 << 10

// Write buffers p and writes every complete line in it. It never fails.
func (l *LineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
		l.emit(l.buf[:i+1])
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
	}
	for len(l.buf) > maxLine {
		cut := maxLine
		for cut > maxLine-utf8.UTFMax && !utf8.RuneStart(l.buf[cut]) {
			cut-- // do not split a character
		}
		if l.prefix == nil && l.emitLine == nil {
			cut = len(l.buf) // no prefix: pass it on as it is
		}
		l.emit(l.buf[:cut])
		l.buf = append(l.buf[:0], l.buf[cut:]...)
	}
	return len(p), nil
}

// emit writes b: whole lines, and possibly a piece of a long one.
func (l *LineWriter) emit(b []byte) {
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
	if l.prefix == nil {
		l.out(b)
		return
	}
	out := make([]byte, 0, len(b)+8*len(l.prefix))
	for len(b) > 0 {
		j := bytes.IndexByte(b, '\n') + 1
		if j == 0 {
			j = len(b)
		}
		line, end := b[:j], "\n"
		line = bytes.TrimSuffix(line, []byte("\n"))
		if n := len(line); n > 0 && line[n-1] == '\r' {
			end = "\r\n" // a pty's line ending: keep it
			line = bytes.TrimRight(line, "\r")
		}
		out = append(out, l.prefix...)
		out = Clean(out, line, l.color)
		out = append(out, end...)
		b = b[j:]
	}
	l.out(out)
}

// Flush writes a last unterminated line, ending it with a newline.
// Safe on a nil LineWriter.
func (l *LineWriter) Flush() {
	if l != nil && len(l.buf) > 0 {
		l.emit(append(l.buf, '\n'))
		l.buf = l.buf[:0]
	}
}

// PrefixLines returns a LineWriter that writes each whole line to out after
// "[label] " (the label padded to width), made safe to show after it
// (Clean), as a host's lines are: for output that goes on into a
// writer of its own, such as an item of a loop on one of several hosts.
// out gets whole lines; the caller serialises it when several
// LineWriters share where it writes.
func PrefixLines(out func(b []byte), label string, width int) *LineWriter {
	pad := strings.Repeat(" ", max(0, width-len(label)))
	return &LineWriter{out: out, prefix: []byte("[" + label + "]" + pad + " ")}
}
