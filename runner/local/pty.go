package local

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// openPty opens a new pseudo-terminal with creack/pty. The master is
// made non-blocking for ptyIO, which reads and writes it with poll(2):
// pty.Open leaves it blocking (its ioctls go through f.Fd), and the
// master's *os.File, which thinks it still is, is only closed. The slave
// is as pty.Open made it, for the command.
func openPty() (master, slave *os.File, err error) {
	master, slave, err = pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	if err := unix.SetNonblock(sysfd(master), true); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	return master, slave, nil
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
