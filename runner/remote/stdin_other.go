//go:build !unix

package remote

import (
	"errors"
	"os"

	"golang.org/x/crypto/ssh"
)

type fileReader struct{ *os.File }

func newFileReader(f *os.File) (*fileReader, error) {
	return nil, errors.New("not supported")
}

func (r *fileReader) stop()    {}
func (r *fileReader) release() {}

func watchResize(f *os.File, s *ssh.Session) (stop func()) { return func() {} }

// flock is a no-op where flock(2) does not exist: concurrent processes
// accepting new host keys may then interleave their lines.
func flock(f *os.File) error { return nil }
