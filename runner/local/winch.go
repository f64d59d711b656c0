package local

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// winchLinger is how long a resizer keeps listening for SIGWINCH after
// its last terminal is gone, in case the next command follows.
const winchLinger = time.Second

// resizer keeps the window size of each running command's pseudo-terminal
// in step with the user's terminal, on SIGWINCH.
//
// It listens from the first command until winchLinger after the last, so
// that a task's commands share one registration: each signal.Notify and
// signal.Stop of a signal costs a round trip to the runtime's
// signal-mask thread, which was a third of the context switches of a
// short command run from a terminal. The zero value is ready to use.
type resizer struct {
	mu     sync.Mutex
	winch  chan os.Signal
	ptys   map[*os.File]*os.File // pty master -> the user's terminal
	last   time.Time             // when the last pseudo-terminal was removed
	linger *time.Timer           // stops listening once idle for winchLinger
}

// add starts following the user's terminal for master, the master side
// of a command's pseudo-terminal. It gives master the terminal's size now.
func (z *resizer) add(user, master *os.File) {
	_ = inheritSize(user, master)
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.winch == nil {
		z.winch = make(chan os.Signal, 1)
		signal.Notify(z.winch, syscall.SIGWINCH)
		go z.follow(z.winch)
		// One timer for a whole run of commands: resetting it for
		// each would wake the runtime's poller each time.
		z.linger = time.AfterFunc(winchLinger, z.stopIfIdle)
	}
	if z.ptys == nil {
		z.ptys = make(map[*os.File]*os.File)
	}
	z.ptys[master] = user
}

// remove stops following the user's terminal for master.
func (z *resizer) remove(master *os.File) {
	z.mu.Lock()
	defer z.mu.Unlock()
	delete(z.ptys, master)
	z.last = time.Now()
}

// stopIfIdle stops listening for SIGWINCH once no command has used it
// for winchLinger, and looks again later otherwise.
func (z *resizer) stopIfIdle() {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.winch == nil {
		return // already stopped
	}
	switch idle := time.Since(z.last); {
	case len(z.ptys) > 0:
		z.linger.Reset(winchLinger)
		return
	case idle < winchLinger:
		z.linger.Reset(winchLinger - idle)
		return
	}
	signal.Stop(z.winch)
	close(z.winch) // Stop has returned: nothing sends on it any more
	z.linger.Stop()
	z.winch, z.linger = nil, nil
}

// follow resizes every pseudo-terminal followed when the user's terminal
// changes size, until winch is closed.
func (z *resizer) follow(winch chan os.Signal) {
	for range winch {
		z.mu.Lock()
		for master, user := range z.ptys {
			_ = inheritSize(user, master)
		}
		z.mu.Unlock()
	}
}
