package service

import (
	"context"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// peerCred returns the uid and pid of the process at the other end of
// c, as the kernel recorded them when it connected (or, seen from a
// client, when the server called listen): SO_PEERCRED.
func peerCred(c *net.UnixConn) (uid, pid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *unix.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, 0, err
	}
	if serr != nil {
		return 0, 0, fmt.Errorf("SO_PEERCRED: %w", serr)
	}
	return int(cred.Uid), int(cred.Pid), nil
}

// procHandle watches a process through a pidfd, so that a pid used
// again by a new process, after the one watched was reaped, is not
// mistaken for it.
type procHandle struct {
	pid int
	fd  int // -1: no pidfd (gone already, or none to be had)
}

// watchProcess opens a pidfd of process pid.
func watchProcess(pid int) procHandle {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		fd = -1
	}
	return procHandle{pid: pid, fd: fd}
}

// wait returns once the process has ended (a zombie has ended), or ctx
// ends.
func (h procHandle) wait(ctx context.Context) error {
	if h.fd < 0 {
		return waitExitPolling(ctx, h.pid)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for the supervisor (pid %d) to end: %w", h.pid, err)
		}
		fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("waiting for the supervisor (pid %d) to end: %w", h.pid, err)
		}
		if n > 0 {
			return nil
		}
	}
}

func (h procHandle) close() {
	if h.fd >= 0 {
		unix.Close(h.fd)
	}
}
