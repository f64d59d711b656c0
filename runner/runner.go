package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gotask/gotask/responder"
)

// A Runner runs one shell command to completion. It is the only contract
// between the task executor and the places commands run: runner/local runs
// them on this machine, runner/remote over SSH.
//
// Run returns a non-nil Result whenever the command started, even when it
// failed. A command that exited non-zero yields a *ExitError; a command
// whose outcome cannot be known (the connection dropped) yields an error
// wrapping ErrOutcomeUnknown, never success.
type Runner interface {
	Run(ctx context.Context, cmd *Cmd) (*Result, error)
}

// PtyMode says whether a command gets a pseudo-terminal.
type PtyMode int

const (
	// PtyAuto gives the command a pseudo-terminal when Cmd.Stdin is a
	// terminal, and pipes otherwise. It is the zero value.
	PtyAuto PtyMode = iota
	// PtyOn always gives the command a pseudo-terminal.
	PtyOn
	// PtyOff always uses pipes, keeping stdout and stderr apart.
	PtyOff
)

// DefaultCapture is the bound of a caller that reads a command's output
// (a Go task's Context.Run asks for it): 4 MiB of each stream.
const DefaultCapture = 4 << 20

// TailCapture is how many bytes of the end of each stream a Result keeps
// when Cmd.Capture is zero: enough to quote in a message, without a copy
// of output nobody reads.
const TailCapture = 4 << 10

// Cmd describes one command. Its shape follows os/exec.Cmd.
type Cmd struct {
	// Command is the command line, run by a POSIX shell ("sh -c").
	Command string

	// Dir is the working directory. Empty means the runner's default: the
	// current directory locally, the login directory remotely.
	Dir string

	// Env holds "KEY=value" entries added to the environment the runner
	// starts from. Later entries win.
	Env []string

	// Stdin is the command's input. Nil means no input. When it is a
	// terminal (*os.File) and Pty is PtyAuto, the command gets a
	// pseudo-terminal and the terminal is put in raw mode while it runs.
	Stdin io.Reader

	// Stdout and Stderr receive the output live, as it arrives. Nil
	// discards it (it is still captured into the Result). Under a
	// pseudo-terminal both streams arrive merged on Stdout.
	Stdout io.Writer
	Stderr io.Writer

	// Pty chooses between a pseudo-terminal and pipes; see PtyMode.
	Pty PtyMode

	// Watchers see every chunk of output and may answer on stdin (see
	// package responder). While any watcher is set, the command's stdin is
	// kept open after Stdin reaches end of file, so that a prompt arriving
	// later can still be answered.
	Watchers []responder.Watcher

	// HoldInput, when not nil, holds Stdin back: none of it reaches the
	// command before HoldInput is closed, while what watchers write goes
	// through at once. If the command ends first, the input is left
	// unread. Runners look at it after each chunk of output they have
	// shown the watchers, so close it from a watcher's Watch, as
	// responder.SudoCommand does: sudo reads its password from the
	// command's stdin, and input that went first would be taken for it.
	HoldInput <-chan struct{}

	// ForwardAgent forwards the local ssh-agent to the host for this
	// command, as ssh -A (remote runners; a local runner has the agent
	// already and ignores it).
	ForwardAgent bool

	// Timeout, when positive, stops the command after that long: the
	// runner terminates its process group (SIGTERM), then kills it after
	// a grace period. (Cancelling the context interrupts it, SIGINT.)
	Timeout time.Duration

	// Nice, when not zero, runs the command at that niceness (through
	// nice -n, so that it holds from the command's first instruction).
	// Only runners of this machine take it: a remote runner refuses it.
	Nice int

	// Capture says how much of each stream the Result keeps. Positive:
	// the first Capture bytes (DefaultCapture is a good bound for output
	// the caller parses). Zero: the last TailCapture bytes, for error
	// messages. Negative: nothing. Either way all of it is streamed to
	// Stdout and Stderr, and Result.Truncated says whether some of it was
	// not kept.
	Capture int
}

// CaptureLimit returns how many bytes of each stream a Result keeps for
// c, and whether they are the last ones (tail) rather than the first.
func (c *Cmd) CaptureLimit() (limit int, tail bool) {
	switch {
	case c.Capture == 0:
		return TailCapture, true
	case c.Capture < 0:
		return 0, false
	}
	return c.Capture, false
}

// Result is what a finished (or stopped) command left behind.
type Result struct {
	// Stdout and Stderr hold the captured output, as Cmd.Capture says:
	// its beginning, or by default its last few KiB. Under a
	// pseudo-terminal everything is in Stdout.
	Stdout []byte
	Stderr []byte
	// Truncated reports that some output was streamed but not captured.
	Truncated bool
	// ExitCode is the command's exit status; 128+N when killed by signal N;
	// -1 when it never finished.
	ExitCode int
	// Duration is the wall-clock time from start to exit.
	Duration time.Duration
	// Host names where the command ran: "" locally.
	Host string
}

// ExitError reports a command that ran and failed: it exited non-zero, was
// killed by a signal or was stopped by its timeout.
type ExitError struct {
	Command  string
	Host     string // "" for local commands
	Code     int    // exit status, 128+N for signal N
	Signal   string // the signal that killed it, if any ("interrupt", "killed")
	TimedOut bool   // stopped because Cmd.Timeout ran out
	Timeout  time.Duration
}

func (e *ExitError) Error() string {
	where := ""
	if e.Host != "" {
		where = " on " + e.Host
	}
	switch {
	case e.TimedOut:
		return fmt.Sprintf("command timed out after %s%s", e.Timeout, where)
	case e.Signal != "":
		return fmt.Sprintf("command killed by signal %s%s", e.Signal, where)
	}
	return fmt.Sprintf("command exited with status %d%s", e.Code, where)
}

// ErrOutcomeUnknown is wrapped by errors from commands whose result cannot
// be known, such as a remote command whose connection was lost. Such a
// command may or may not have run to completion.
var ErrOutcomeUnknown = errors.New("connection lost; outcome unknown")
