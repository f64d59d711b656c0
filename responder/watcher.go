package responder

import "io"

// Stream names the output stream a chunk came from.
type Stream int

const (
	// Stdout is the command's standard output. Under a pseudo-terminal,
	// stdout and stderr are merged and everything arrives as Stdout.
	Stdout Stream = iota
	// Stderr is the command's standard error.
	Stderr
)

// String returns "stdout" or "stderr".
func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// A Watcher sees every chunk of a command's output as it arrives and may
// answer by writing to the command's standard input.
//
// Runners call Watch from one goroutine per stream, so an implementation
// that keeps state across streams must guard it. The chunk is only valid
// during the call. A non-nil error stops the command at once; the runner
// returns that error (wrapped) from Run.
type Watcher interface {
	Watch(stream Stream, chunk []byte, stdin io.Writer) error
}
