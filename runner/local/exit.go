package local

import (
	"os"

	"github.com/gotask/gotask/runner/internal/capture"
)

// An exitNotice is a descriptor that becomes readable once the command's
// process has exited, so that one poll(2) can wait for the command's
// output, its input and its end (see ptyIO).
type exitNotice interface {
	// fd is the descriptor to poll for reading.
	fd() int
	// reap waits for the process, which has exited once fd is readable,
	// as process.reap does.
	reap() (capture.Stop, error)
	// close releases the descriptor, once reap has returned.
	close()
}

// waiterNotice is the portable exitNotice: a goroutine reaps the process
// and then closes a pipe, whose read end the loop polls. It costs a
// goroutine and a hand-off from it for each command.
type waiterNotice struct {
	r    *os.File
	done chan struct{}
	why  capture.Stop
	err  error
}

func newWaiterNotice(p *process) (*waiterNotice, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	n := &waiterNotice{r: r, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		defer w.Close() // the end of file is the notice
		n.why, n.err = p.reap()
	}()
	return n, nil
}

func (n *waiterNotice) fd() int { return sysfd(n.r) }

func (n *waiterNotice) reap() (capture.Stop, error) {
	<-n.done
	return n.why, n.err
}

func (n *waiterNotice) close() { n.r.Close() }
