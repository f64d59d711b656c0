package local

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// selectReady waits, as poll(2) with no timeout, until one of fds is
// ready, but with select(2), for systems whose poll(2) cannot wait for a
// terminal. A readable descriptor (one at end of file or hung up
// included) gets POLLIN in Revents, a writable one POLLOUT. It fails for
// a descriptor of FD_SETSIZE or more, which select(2) cannot take.
func selectReady(fds []unix.PollFd) error {
	var r, w unix.FdSet
	nfd := 0
	for _, f := range fds {
		fd := int(f.Fd)
		if fd < 0 || fd >= unix.FD_SETSIZE {
			return fmt.Errorf("descriptor %d is out of select(2)'s range (0 to %d)", fd, unix.FD_SETSIZE-1)
		}
		if f.Events&unix.POLLIN != 0 {
			r.Set(fd)
		}
		if f.Events&unix.POLLOUT != 0 {
			w.Set(fd)
		}
		nfd = max(nfd, fd+1)
	}
	if _, err := unix.Select(nfd, &r, &w, nil, nil); err != nil {
		return err
	}
	for i := range fds {
		fd := int(fds[i].Fd)
		fds[i].Revents = 0
		if fds[i].Events&unix.POLLIN != 0 && r.IsSet(fd) {
			fds[i].Revents |= unix.POLLIN
		}
		if fds[i].Events&unix.POLLOUT != 0 && w.IsSet(fd) {
			fds[i].Revents |= unix.POLLOUT
		}
	}
	return nil
}
