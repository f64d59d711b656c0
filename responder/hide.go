package responder

import (
	"bytes"
	"io"
	"sync"
)

// Prompt returns the prompt sudo is told to print for commands made by
// Command. It carries the nonce of s.
func (s *Sudo) Prompt() string { return s.prompt() }

// HidePrompt returns a writer that passes on what is written to it
// without the prompt of s: the user sees the command's output, not the
// exchange with sudo that gotask answers for them. Call Close when the
// command is done, to write what may have been held back.
func (s *Sudo) HidePrompt(w io.Writer) io.WriteCloser {
	if w == nil {
		return nopCloser{io.Discard}
	}
	return &dropWriter{w: w, text: []byte(s.prompt())}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// dropWriter removes every occurrence of text from a stream, holding back
// only a tail that may be the start of text, so other output is not
// delayed.
type dropWriter struct {
	mu   sync.Mutex
	w    io.Writer
	text []byte
	held []byte
}

func (d *dropWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	buf := append(d.held, p...)
	var out []byte
	for {
		i := bytes.Index(buf, d.text)
		if i < 0 {
			break
		}
		out = append(out, buf[:i]...)
		buf = buf[i+len(d.text):]
	}
	keep := partialSuffix(buf, d.text)
	out = append(out, buf[:len(buf)-keep]...)
	d.held = append(d.held[:0:0], buf[len(buf)-keep:]...)
	if len(out) > 0 {
		if _, err := d.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close writes the held tail: it was not the prompt after all.
func (d *dropWriter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.held) == 0 {
		return nil
	}
	_, err := d.w.Write(d.held)
	d.held = nil
	return err
}

// partialSuffix is the length of the longest suffix of b that is a proper
// prefix of text.
func partialSuffix(b, text []byte) int {
	for n := min(len(b), len(text)-1); n > 0; n-- {
		if bytes.HasSuffix(b, text[:n]) {
			return n
		}
	}
	return 0
}
