package cli

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/gotask/gotask/output"
)

// Streams bundles the standard streams the CLI reads and writes, and
// whether they are terminals. Tests build one from buffers.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// InTTY, OutTTY and ErrTTY say whether In, Out and ErrOut are
	// terminals. InTTY decides prompting and pseudo-terminals; OutTTY and
	// ErrTTY decide colour on their own stream, and ErrTTY the progress
	// line drawn on ErrOut.
	InTTY, OutTTY, ErrTTY bool
	// NoColor turns colour off even on a terminal (NO_COLOR is set); the
	// progress line stays.
	NoColor bool
	// Dumb says the terminals take no escape codes at all (TERM=dumb):
	// no colour and no progress line.
	Dumb bool
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
		ErrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		NoColor: noColor,
		Dumb:    os.Getenv("TERM") == "dumb",
	}
}

// color reports whether output to Out may use colour.
func (s *Streams) color() bool { return s.OutTTY && !s.NoColor && !s.Dumb }

// errColor reports whether output to ErrOut may use colour.
func (s *Streams) errColor() bool { return s.ErrTTY && !s.NoColor && !s.Dumb }

// progress reports whether a progress line may be drawn on ErrOut.
func (s *Streams) progress() bool { return s.ErrTTY && !s.Dumb }

// paint wraps text for Out in the escape codes when colour is on there.
func (s *Streams) paint(style output.Style, text string) string {
	return output.Paint(s.color(), style, text)
}

// errPaint wraps text for ErrOut in the escape codes when colour is on
// there.
func (s *Streams) errPaint(style output.Style, text string) string {
	return output.Paint(s.errColor(), style, text)
}
