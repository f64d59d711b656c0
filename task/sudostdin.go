package task

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/gotask/gotask/responder"
)

// sudoPromptWait is how long a sudo command's input is held back waiting
// for sudo's prompt. sudo prompts within milliseconds when it needs a
// password; without a prompt by then, it needed none.
const sudoPromptWait = 2 * time.Second

// heldInput is a sudo command's stdin, held back until sudo has been
// given the password. sudo -S reads the password from the same stdin as
// the command, so input forwarded before the answer (echo data | gotask
// t) would be taken for the password. The input flows once the prompt is
// answered, after sudoPromptWait without a prompt, and never after stop.
type heldInput struct {
	r        io.Reader
	once     sync.Once
	answered chan struct{} // closed when sudo's prompt has been answered
	stopOnce sync.Once
	stopped  chan struct{} // closed when the command has ended
	open     atomic.Bool
}

// holdSudoInput returns in wrapped to be held until w has answered
// sudo's prompt, and w wrapped to report that answer. A terminal is not
// held: the command gets a pseudo-terminal of its own, from which sudo
// reads the password.
func holdSudoInput(in io.Reader, w responder.Watcher) (io.Reader, responder.Watcher) {
	if f, ok := in.(*os.File); in == nil || ok && term.IsTerminal(int(f.Fd())) {
		return in, w
	}
	h := &heldInput{r: in, answered: make(chan struct{}), stopped: make(chan struct{})}
	return h, answerWatcher{w: w, h: h}
}

// Read waits until the input may flow, then reads from the input.
func (h *heldInput) Read(p []byte) (int, error) {
	if !h.open.Load() {
		t := time.NewTimer(sudoPromptWait)
		defer t.Stop()
		select {
		case <-h.answered:
		case <-t.C:
		case <-h.stopped:
		}
		h.open.Store(true)
	}
	select {
	case <-h.stopped:
		return 0, io.EOF // the command is over: leave the rest to the next one
	default:
	}
	return h.r.Read(p)
}

// stop ends the input when the command has ended.
func (h *heldInput) stop() { h.stopOnce.Do(func() { close(h.stopped) }) }

// answerWatcher is sudo's watcher, reporting to h when it has written
// the answer.
type answerWatcher struct {
	w responder.Watcher
	h *heldInput
}

func (a answerWatcher) Watch(stream responder.Stream, chunk []byte, stdin io.Writer) error {
	if stdin != nil {
		stdin = answerWriter{stdin, a.h}
	}
	return a.w.Watch(stream, chunk, stdin)
}

type answerWriter struct {
	io.Writer
	h *heldInput
}

func (a answerWriter) Write(b []byte) (int, error) {
	n, err := a.Writer.Write(b)
	a.h.once.Do(func() { close(a.h.answered) })
	return n, err
}
