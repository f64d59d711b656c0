package local

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// shared is what the commands of a Runner share: the SIGWINCH
// registration, and the user's input opened again for reading (see
// openInput). Setting these up for each command was most of the cost of
// a short command run from a terminal: enabling and disabling a signal is
// a round trip to the runtime's signal-mask thread, and opening a
// terminal through /proc walks the filesystem. They are made when the
// first command needs them and let go when the Runner is garbage (see
// Runner.sharedState), or by letGo.
//
// No timer lets them go after a pause between commands, as one did: while
// any timer is pending, an idle thread of the runtime waits in its poller
// rather than sleeping, and each descriptor added to the poller (pty.Open
// adds both sides of every new terminal) and each terminal's hang-up
// wakes it, which cost a run of short commands from a terminal more than
// anything shared here saves. Nor can a timer be stopped for the length
// of a command: a stopped timer stays in its processor's heap, where that
// thread still sees it, until the processor next schedules.
type shared struct {
	mu     sync.Mutex
	winch  chan os.Signal        // SIGWINCH, once anyone has run on a pty from a terminal
	ptys   map[*os.File]*os.File // pty master -> the user's terminal it follows
	inputs map[*os.File]*os.File // the user's input -> an idle copy opened again
	gone   bool                  // let go: keep nothing more
}

// letGo stops listening for SIGWINCH and closes the idle copies of the
// input. Commands that come later share nothing.
func (s *shared) letGo() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone = true
	if s.winch != nil {
		signal.Stop(s.winch)
		close(s.winch) // Stop has returned: nothing sends on it any more
		s.winch = nil
	}
	for _, again := range s.inputs {
		again.Close()
	}
	s.inputs = nil
}

// followSize gives master, the master side of a command's pseudo-terminal,
// the size of the user's terminal now and whenever it changes, until
// unfollowSize.
func (s *shared) followSize(user, master *os.File) {
	_ = inheritSize(user, master)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.winch == nil && !s.gone {
		s.winch = make(chan os.Signal, 1)
		signal.Notify(s.winch, syscall.SIGWINCH)
		go s.resize(s.winch)
	}
	if s.ptys == nil {
		s.ptys = make(map[*os.File]*os.File)
	}
	s.ptys[master] = user
}

func (s *shared) unfollowSize(master *os.File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ptys, master)
}

// resize resizes every pseudo-terminal followed when the user's terminal
// changes size, until winch is closed.
func (s *shared) resize(winch chan os.Signal) {
	for range winch {
		s.mu.Lock()
		for master, user := range s.ptys {
			_ = inheritSize(user, master)
		}
		s.mu.Unlock()
	}
}

// takeInput returns an idle copy of the user's input f opened again,
// or nil. The caller has it to itself until putInput.
func (s *shared) takeInput(f *os.File) *os.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	again := s.inputs[f]
	delete(s.inputs, f)
	return again
}

// putInput keeps again, a copy of f opened again, for the next command.
func (s *shared) putInput(f, again *os.File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inputs[f] != nil || s.gone {
		again.Close() // another command's copy is kept already, or all was let go
		return
	}
	if s.inputs == nil {
		s.inputs = make(map[*os.File]*os.File)
	}
	s.inputs[f] = again
}
