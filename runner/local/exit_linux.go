package local

import (
	"golang.org/x/sys/unix"

	"github.com/gotask/gotask/runner/internal/capture"
)

// pidfdNotice is a pidfd of the command's process: it becomes readable
// when the process exits, so that the goroutine that runs the command
// waits for everything at once and reaps the process itself.
type pidfdNotice struct {
	p   *process
	pfd int
}

// newExitNotice returns a pidfd for p's process, or a waiterNotice where
// pidfds are missing (Linux before 5.3) or forbidden (seccomp).
func newExitNotice(p *process) (exitNotice, error) {
	if !p.r.portable {
		// The process cannot have been reaped (only p.reap does that),
		// so its pid is still its own. A pidfd is always close-on-exec.
		if pfd, err := unix.PidfdOpen(p.exec.Process.Pid, 0); err == nil {
			return &pidfdNotice{p: p, pfd: pfd}, nil
		}
	}
	return newWaiterNotice(p)
}

func (n *pidfdNotice) fd() int                     { return n.pfd }
func (n *pidfdNotice) reap() (capture.Stop, error) { return n.p.reap() }
func (n *pidfdNotice) close()                      { unix.Close(n.pfd) }
