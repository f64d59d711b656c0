//go:build !unix

package remote

import (
	"os"

	"golang.org/x/crypto/ssh"
)

func watchResize(f *os.File, s *ssh.Session) (stop func()) { return func() {} }

// flock is a no-op where flock(2) does not exist: concurrent processes
// accepting new host keys may then interleave their lines.
func flock(f *os.File) error { return nil }
