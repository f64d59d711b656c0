package cli

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Streams bundles the standard streams the CLI reads and writes, and
// whether they are terminals. Tests build one from buffers.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// InTTY and OutTTY say whether In and Out are terminals: they decide
	// prompting, pseudo-terminals and colour.
	InTTY, OutTTY bool
	// NoColor turns colour off even on a terminal (NO_COLOR is set).
	NoColor bool
}

// Std returns the process's own stdin, stdout and stderr.
func Std() *Streams {
	_, noColor := os.LookupEnv("NO_COLOR")
	var in io.Reader = os.Stdin
	if _, err := unix.FcntlInt(os.Stdin.Fd(), unix.F_GETFD, 0); err != nil {
		in = nil // stdin is closed (started from cron or with <&-)
	}
	return &Streams{
		In: in, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:   term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY:  term.IsTerminal(int(os.Stdout.Fd())),
		NoColor: noColor || os.Getenv("TERM") == "dumb",
	}
}

// color reports whether output to Out may use colour.
func (s *Streams) color() bool { return s.OutTTY && !s.NoColor }

const (
	bold  = "\x1b[1m"
	cyan  = "\x1b[36m"
	red   = "\x1b[31m"
	green = "\x1b[32m"
	reset = "\x1b[0m"
)

// paint wraps s in the escape codes when colour is on.
func (s *Streams) paint(code, text string) string {
	if !s.color() {
		return text
	}
	return code + text + reset
}
