//go:build !linux

package local

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeCloexec makes a pipe whose ends are close-on-exec. Without pipe2(2)
// that takes a second step: it holds syscall.ForkLock, as package os
// does, so that no fork in between leaks the ends into a child.
func pipeCloexec(p *[2]int) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	if err := unix.Pipe(p[:]); err != nil {
		return err
	}
	unix.CloseOnExec(p[0])
	unix.CloseOnExec(p[1])
	return nil
}
