//go:build unix

package cli

import "syscall"

// newSessionAttr starts a process in a session of its own, so that the
// terminal's signals and hangup do not reach it.
func newSessionAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
