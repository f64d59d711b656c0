package local

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openPty opens a new pseudo-terminal. The master is non-blocking and in
// Go's poller, so that a pending read parks a goroutine rather than a
// thread and a deadline ends it (see fileReader); the slave is a plain
// blocking descriptor, for the command.
//
// It does what creack/pty's Open does, which leaves the master blocking.
func openPty() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	var sfd int
	err = control(master, func(fd int) error {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			return fmt.Errorf("unlock pseudo-terminal: %w", err)
		}
		// TIOCGPTPEER (Linux 4.13) opens the slave without a path to
		// look up or to race for.
		r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCGPTPEER,
			uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
		if errno == 0 {
			sfd = int(r)
			return nil
		}
		n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
		if err != nil {
			return fmt.Errorf("pseudo-terminal number: %w", err)
		}
		sfd, err = unix.Open("/dev/pts/"+strconv.Itoa(int(n)), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open pseudo-terminal slave: %w", err)
		}
		return nil
	})
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, os.NewFile(uintptr(sfd), "pseudo-terminal slave"), nil
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
	return control(f, func(fd int) error {
		_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		return err
	}) == nil
}

// sysfd returns f's descriptor. Unlike f.Fd, it leaves a non-blocking
// file non-blocking.
func sysfd(f *os.File) int {
	fd := -1
	_ = control(f, func(n int) error { fd = n; return nil })
	return fd
}
