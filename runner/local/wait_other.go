//go:build !linux

package local

import "golang.org/x/sys/unix"

// waitReady waits until one of fds is ready. It uses select(2): macOS's
// poll(2) does not support devices, terminals included (it reports them
// POLLNVAL; see BUGS in poll(2)).
func waitReady(fds []unix.PollFd) error { return selectReady(fds) }
