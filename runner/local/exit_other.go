//go:build !linux

package local

// newExitNotice returns a waiterNotice: only Linux has pidfds.
func newExitNotice(p *process) (exitNotice, error) { return newWaiterNotice(p) }
