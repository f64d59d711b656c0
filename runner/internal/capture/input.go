package capture

import (
	"errors"
	"io"
	"time"
)

// A StopReader is a reader that Stop ends at once, even while a Read
// waits: a read that could not be cancelled would either hang gotask (a
// background child holding a command's output open) or steal input meant
// for the next command.
type StopReader interface {
	io.Reader
	// Stop ends the reader: with drain set, Read still returns what is
	// ready without waiting (the tail of a finished command's output);
	// without it, Read reads nothing more (input that belongs to the
	// next command).
	Stop(drain bool)
}

// ErrStopped is returned by a StopReader's Read once it has been stopped.
var ErrStopped = errors.New("reader stopped")

// The modes of a StopReader, as its implementations keep them.
const (
	Running  = iota // read, waiting if need be
	Draining        // read what is ready now, then stop
	Stopped         // read nothing more
)

// drainTimeout is how long stopping a forwarder waits for a reader that
// cannot be stopped.
const drainTimeout = 100 * time.Millisecond

// Forwarder copies a command's input (Cmd.Stdin) to the command.
type Forwarder struct {
	// Src is what to copy: a StopReader where the input can be
	// stopped, else any reader.
	Src io.Reader
	// Dst is where to copy it: the command's Input.
	Dst io.Writer
	// Hold, when not nil, holds the copy back until it is closed (see
	// runner.Cmd.HoldInput). If the command ends first, nothing is read.
	Hold <-chan struct{}
	// Buf is the buffer to copy through; nil means one of 32 KiB.
	Buf []byte
	// AtEOF, when set, is called at the end of Src: it tells the
	// command there is no more input.
	AtEOF func()
	// Release, when set, is called once nothing reads Src any more.
	Release func()
}

// Start starts the copy on a goroutine of its own. The returned function
// ends it, for a command that has ended: it stops Src if it is a
// StopReader, leaving the rest of the input for whoever reads it next,
// and waits until nothing touches Src any more, as the caller may close
// it as soon as Run returns. Any other reader cannot be interrupted: it
// is given a moment to finish (an in-memory reader will), then left to
// end at its next Read.
func (f *Forwarder) Start() (stop func()) {
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		if f.Hold != nil {
			select {
			case <-f.Hold:
			case <-quit:
				return // the command ended first: its input stays unread
			}
		}
		buf := f.Buf
		if buf == nil {
			buf = make([]byte, 32<<10)
		}
		_, _ = io.CopyBuffer(f.Dst, f.Src, buf)
		if f.AtEOF != nil {
			select {
			case <-quit: // stopped, not at its end: the rest is the next reader's
			default:
				f.AtEOF()
			}
		}
	}()
	return func() {
		close(quit)
		if sr, ok := f.Src.(StopReader); ok {
			sr.Stop(false)
			<-done
		} else {
			select {
			case <-done:
			case <-time.After(drainTimeout):
			}
		}
		if f.Release != nil {
			f.Release()
		}
	}
}
