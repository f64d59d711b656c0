package responder

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
)

// A SudoCommand is one command prepared by Sudo.Command. It is the
// Watcher that answers that command's sudo, and it knows the wrapper's
// own output, which Hide and Clean take out of what the user sees.
//
// A SudoCommand is safe for use by the goroutines of one command's
// streams. Use it for one run of its command only.
type SudoCommand struct {
	// Line is the command line to run: the command wrapped for sudo.
	Line string

	s      *Sudo
	ctx    context.Context
	nonce  string // secret: only gotask and sudo know it
	prompt string // sudo's prompt, with the nonce
	ready  string // the wrapper asks for the nonce (public)
	marker string // sudo is done; the command starts (public)

	mu        sync.Mutex
	streams   [2]scanState
	nonceSent bool
	answered  bool
	err       error         // the failure, once there is one
	begun     bool          // a marker went by
	markers   int           // how many went by, of the two
	started   chan struct{} // closed when both markers went by
}

// scanState is what the watcher knows of one stream.
type scanState struct {
	tail []byte // the end of the stream that may start a token
	// after is set once the stream's marker went by: the rest is the
	// command's, but for the other stream's marker right after it (on a
	// terminal both streams are one).
	after bool
	done  bool // nothing more to look for
}

// Started returns a channel that is closed once sudo is done asking and
// the command starts: from then on the command's stdin belongs to the
// command. Input held back until then cannot be taken for the password.
// It is closed when both markers (stderr's and stdout's) went by, so that
// on a terminal the echo of that input comes after both, never between.
func (c *SudoCommand) Started() <-chan struct{} { return c.started }

// Watch answers the wrapper and sudo in chunk, the output of stream. It
// implements Watcher:
//
//   - the wrapper's request for the nonce is answered with the nonce,
//     once;
//   - sudo's prompt, which carries the nonce, is answered with the
//     password; a second one fails with an *AuthError;
//   - after the start marker on a stream, nothing on that stream is
//     looked at any more, and after the first marker nothing at all is
//     answered.
//
// After failing, every call returns the same error.
func (c *SudoCommand) Watch(stream Stream, chunk []byte, stdin io.Writer) error {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	st := &c.streams[stream&1]
	if st.done {
		c.mu.Unlock()
		return nil // the command's own output: never answered
	}
	var sendNonce, answer bool
	buf := append(st.tail, chunk...)
	tokens := [...]string{c.ready, c.prompt, c.marker}
	for !st.after {
		i, k := firstToken(buf, tokens[:])
		if i < 0 {
			break
		}
		buf = buf[i+len(tokens[k]):]
		switch tokens[k] {
		case c.ready:
			if !c.nonceSent && !c.begun {
				c.nonceSent, sendNonce = true, true
			}
		case c.prompt:
			if c.begun {
				continue // the other stream's marker went by: sudo is done
			}
			if c.answered || answer {
				c.err = &AuthError{Host: c.s.Host, Task: c.s.Task, User: c.s.User}
				c.mu.Unlock()
				return c.err
			}
			answer = true
		case c.marker:
			st.after = true
			c.sawMarker()
		}
	}
	if st.after {
		switch m := []byte(c.marker); {
		case bytes.HasPrefix(buf, m):
			c.sawMarker() // the other stream's, on a terminal
			st.done = true
		case len(buf) < len(m) && bytes.HasPrefix(m, buf):
			// may still be the other marker
		default:
			st.done = true
		}
	}
	switch {
	case st.done:
		st.tail = nil
	case st.after:
		st.tail = append(st.tail[:0:0], buf...)
	default:
		keep := 0
		for _, t := range tokens {
			keep = max(keep, partialSuffix(buf, []byte(t)))
		}
		st.tail = append(st.tail[:0:0], buf[len(buf)-keep:]...)
	}
	if answer {
		c.answered = true
	}
	c.mu.Unlock()

	if (sendNonce || answer) && stdin == nil {
		return fmt.Errorf("cannot answer sudo%s: the command has no standard input", c.s.where())
	}
	if sendNonce {
		if _, err := io.WriteString(stdin, c.nonce+"\n"); err != nil {
			return fmt.Errorf("sudo%s: give the wrapper its nonce: %w", c.s.where(), err)
		}
	}
	if answer {
		pw, err := c.s.password(c.ctx)
		if err != nil {
			return c.fail(err)
		}
		if _, err := io.WriteString(stdin, pw+"\n"); err != nil {
			return fmt.Errorf("answer sudo's prompt%s: %w", c.s.where(), err)
		}
	}
	return nil
}

// sawMarker counts a start marker. The caller holds c.mu.
func (c *SudoCommand) sawMarker() {
	c.begun = true
	if c.markers++; c.markers == 2 {
		close(c.started)
	}
}

// fail records err as the failure and returns it.
func (c *SudoCommand) fail(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	return c.err
}

// firstToken returns where the first of tokens starts in b, and which one
// it is; -1 when none is in b.
func firstToken(b []byte, tokens []string) (at, which int) {
	at, which = -1, -1
	for k, t := range tokens {
		if i := bytes.Index(b, []byte(t)); i >= 0 && (at < 0 || i < at) {
			at, which = i, k
		}
	}
	return at, which
}

// Hide returns a writer that passes on what is written to it without the
// exchange gotask has with the wrapper and sudo (the request for the
// nonce, its echo on a terminal, sudo's prompt, the start markers): the
// user sees sudo's other messages and the command's output. After the
// start marker, output passes as it is. Call Close when the command is
// done, to write what may have been held back. A nil w gives a writer
// that discards.
func (c *SudoCommand) Hide(w io.Writer) io.WriteCloser {
	if w == nil {
		return nopCloser{io.Discard}
	}
	return &hideWriter{w: w, tokens: [][]byte{
		[]byte(c.ready),
		[]byte(c.nonce + "\r\n"), // the nonce, echoed by a terminal
		[]byte(c.nonce + "\n"),
		[]byte(c.prompt),
		[]byte(c.marker),
	}}
}

// Clean returns out, the captured output of one stream, without what
// Hide takes out of it.
func (c *SudoCommand) Clean(out []byte) []byte {
	if len(out) == 0 {
		return out
	}
	var b bytes.Buffer
	w := c.Hide(&b)
	w.Write(out)
	w.Close()
	return b.Bytes()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// hideWriter removes tokens from a stream until the last of them, the
// marker, has gone by (with a second marker right after it, which is the
// other stream's on a terminal); then it passes everything on. It holds
// back only a tail that may be the start of a token, so other output is
// not delayed.
type hideWriter struct {
	mu     sync.Mutex
	w      io.Writer
	tokens [][]byte // the marker last
	held   []byte
	stage  int // 0: before the marker; 1: just after it; 2: passing
}

func (d *hideWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stage == 2 && len(d.held) == 0 {
		if _, err := d.w.Write(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	buf := append(d.held, p...)
	marker := d.tokens[len(d.tokens)-1]
	var out []byte
	for d.stage == 0 {
		at, which := -1, -1
		for k, t := range d.tokens {
			if i := bytes.Index(buf, t); i >= 0 && (at < 0 || i < at) {
				at, which = i, k
			}
		}
		if at < 0 {
			break
		}
		out = append(out, buf[:at]...)
		buf = buf[at+len(d.tokens[which]):]
		if which == len(d.tokens)-1 {
			d.stage = 1
		}
	}
	if d.stage == 1 {
		switch {
		case bytes.HasPrefix(buf, marker):
			buf, d.stage = buf[len(marker):], 2
		case len(buf) < len(marker) && bytes.HasPrefix(marker, buf):
			// may still be the second marker
		default:
			d.stage = 2
		}
	}
	keep := 0
	switch d.stage {
	case 0:
		for _, t := range d.tokens {
			keep = max(keep, partialSuffix(buf, t))
		}
	case 1:
		keep = len(buf)
	}
	out = append(out, buf[:len(buf)-keep]...)
	d.held = append(d.held[:0:0], buf[len(buf)-keep:]...)
	if len(out) > 0 {
		if _, err := d.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close writes the held tail: it was not the wrapper's after all.
func (d *hideWriter) Close() error {
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
