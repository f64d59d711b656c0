//go:build !unix

package cli

import "syscall"

// newSessionAttr does nothing where there are no sessions.
func newSessionAttr() *syscall.SysProcAttr { return nil }
