package local

import "golang.org/x/sys/unix"

// waitReady waits until one of fds is ready, as poll(2) with no timeout.
func waitReady(fds []unix.PollFd) error {
	_, err := unix.Poll(fds, -1)
	return err
}
