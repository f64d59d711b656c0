//go:build !unix

package capture

import (
	"errors"
	"os"
)

// PollReader is a stoppable reader of a file where poll(2) is missing:
// there is none, and NewPollReader fails.
type PollReader struct{}

// NewPollReader fails: there is no poll(2) here.
func NewPollReader(f *os.File) (*PollReader, error) {
	return nil, errors.New("a stoppable reader needs poll(2)")
}

// Stop does nothing.
func (r *PollReader) Stop(drain bool) {}

// Close does nothing.
func (r *PollReader) Close() {}

// Read fails.
func (r *PollReader) Read(p []byte) (int, error) { return 0, ErrStopped }
