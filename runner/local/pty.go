package local

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// openPty opens a new pseudo-terminal with creack/pty and moves the
// master into Go's poller, so that a pending read parks a goroutine
// rather than a thread and a deadline ends it (see fileReader). pty.Open
// leaves the master blocking (its ioctls go through f.Fd), so the master
// returned is a non-blocking duplicate of it. The slave is as pty.Open
// made it, for the command.
func openPty() (master, slave *os.File, err error) {
	m, slave, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	defer m.Close() // the duplicate keeps the terminal open
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		slave.Close()
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	// O_NONBLOCK belongs to the open file, which m shares until it is
	// closed; os.NewFile puts a non-blocking descriptor in the poller.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		slave.Close()
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	return os.NewFile(uintptr(fd), m.Name()), slave, nil
}

// setSize sets the window size of the terminal behind f.
func setSize(f *os.File, ws *unix.Winsize) error {
	return control(f, func(fd int) error { return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, ws) })
}

// inheritSize gives the pseudo-terminal master the window size of the
// user's terminal.
func inheritSize(user, master *os.File) error {
	var ws *unix.Winsize
	err := control(user, func(fd int) (err error) {
		ws, err = unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
		return err
	})
	if err != nil {
		return err
	}
	return setSize(master, ws)
}

// control runs fn on f's descriptor. Unlike f.Fd, it leaves a
// non-blocking file non-blocking.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var fnErr error
	if err := rc.Control(func(fd uintptr) { fnErr = fn(int(fd)) }); err != nil {
		return err
	}
	return fnErr
}

// isTerminal reports whether f is a terminal, without f.Fd's side effect.
func isTerminal(f *os.File) bool {
	tty := false
	_ = control(f, func(fd int) error { tty = term.IsTerminal(fd); return nil })
	return tty
}

// sysfd returns f's descriptor. Unlike f.Fd, it leaves a non-blocking
// file non-blocking.
func sysfd(f *os.File) int {
	fd := -1
	_ = control(f, func(n int) error { fd = n; return nil })
	return fd
}
