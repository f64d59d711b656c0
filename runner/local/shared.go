package local

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// linger is how long a Runner keeps what its commands share after the
// last one ended, in case the next one follows.
const linger = time.Second

// shared is what the commands of a Runner share while they follow one
// another: the SIGWINCH registration, and the user's input opened again
// for reading (see openInput). Setting these up for each command was
// most of the cost of a short command run from a terminal: enabling and
// disabling a signal is a round trip to the runtime's signal-mask
// thread, and opening a terminal through /proc walks the filesystem and
// wakes the runtime's poller. They are let go once no command has used
// them for linger. The zero value is ready to use.
type shared struct {
	mu     sync.Mutex
	users  int         // commands using it now
	last   time.Time   // when the last of them ended
	linger *time.Timer // lets everything go once idle; one for a whole run, as a reset per command would wake the poller each time

	winch  chan os.Signal        // SIGWINCH, while anyone runs on a pty from a terminal
	ptys   map[*os.File]*os.File // pty master -> the user's terminal it follows
	inputs map[*os.File]*os.File // the user's input -> an idle copy opened again
}

// acquire marks the start of a command, and release its end.
func (s *shared) acquire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users++
	if s.linger == nil {
		s.linger = time.AfterFunc(linger, s.letGoIfIdle)
	}
}

func (s *shared) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users--
	s.last = time.Now()
}

// letGoIfIdle lets everything go once no command has come for linger,
// and looks again later otherwise.
func (s *shared) letGoIfIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.linger == nil {
		return // let go already
	}
	switch idle := time.Since(s.last); {
	case s.users > 0:
		s.linger.Reset(linger)
		return
	case idle < linger:
		s.linger.Reset(linger - idle)
		return
	}
	s.linger.Stop() // when called by hand
	s.linger = nil
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
	if s.winch == nil {
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
	if s.inputs[f] != nil || s.linger == nil {
		again.Close() // another command's copy is kept already, or all was let go
		return
	}
	if s.inputs == nil {
		s.inputs = make(map[*os.File]*os.File)
	}
	s.inputs[f] = again
}
