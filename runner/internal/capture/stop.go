package capture

import (
	"context"
	"time"

	"github.com/gotask/gotask/runner"
)

// Stop says why a runner stopped a command, if it did. The stop policy is
// the same for both runners: Cancelled sends the command's process group
// SIGINT, as the user's Ctrl-C would; TimedOut and Failed send SIGTERM;
// after the grace period the group gets SIGKILL.
type Stop int

const (
	// NotStopped is a command that ended by itself.
	NotStopped Stop = iota
	// Cancelled is a command whose context was cancelled.
	Cancelled
	// TimedOut is a command that ran past Cmd.Timeout.
	TimedOut
	// Failed is a command stopped because a watcher failed.
	Failed
)

// Interrupts reports whether the first signal is SIGINT rather than
// SIGTERM.
func (s Stop) Interrupts() bool { return s == Cancelled }

// End is how a command ended, as a runner learnt it.
type End struct {
	// Stop is why the runner stopped the command, if it did.
	Stop Stop
	// Exit is the command's exit: Code and Signal as the process left
	// them, Command and Host filled in.
	Exit *runner.ExitError
	// Timeout is the Cmd.Timeout that ran out, for Stop == TimedOut.
	Timeout time.Duration
	// WatcherErr is the watcher's error, for Stop == Failed.
	WatcherErr error
}

// StopErr returns the error for a command the runner stopped, or nil
// when it ended by itself (see ExitErr). ctx is the context Run was
// given.
func (e End) StopErr(ctx context.Context) error {
	switch e.Stop {
	case Cancelled:
		e.Exit.Signal = "interrupt"
		return &InterruptedError{ExitError: e.Exit, ctxErr: ctx.Err(), cause: context.Cause(ctx)}
	case TimedOut:
		e.Exit.TimedOut, e.Exit.Timeout = true, e.Timeout
		return e.Exit
	case Failed:
		return &WatcherError{Host: e.Exit.Host, Err: e.WatcherErr}
	}
	return nil
}

// ExitErr returns the error for a command that ended by itself: its
// ExitError when it failed, nil when it exited 0.
func (e End) ExitErr() error {
	if e.Exit.Code != 0 || e.Exit.Signal != "" {
		return e.Exit
	}
	return nil
}

// Err is StopErr, or else ExitErr.
func (e End) Err(ctx context.Context) error {
	if err := e.StopErr(ctx); err != nil {
		return err
	}
	return e.ExitErr()
}

// InterruptedError is the ExitError of a command stopped because its
// context was cancelled. errors.Is finds the context's error
// (context.Canceled or context.DeadlineExceeded) and its cause, if the
// context was cancelled with one.
type InterruptedError struct {
	*runner.ExitError
	ctxErr, cause error
}

func (e *InterruptedError) Error() string { return "command interrupted" + on(e.Host) }

// Unwrap returns the ExitError, the context's error and its cause.
func (e *InterruptedError) Unwrap() []error {
	errs := []error{e.ExitError}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	if e.cause != nil && e.cause != e.ctxErr {
		errs = append(errs, e.cause)
	}
	return errs
}

// WatcherError is the error of a command stopped because one of its
// watchers failed (a wrong sudo password, a prompt nobody answers). Its
// message is the watcher's: watchers word their errors for the user, and
// the caller names the task and host.
type WatcherError struct {
	Host string // "" for a local command
	Err  error  // the watcher's error
}

func (e *WatcherError) Error() string { return e.Err.Error() }

// Unwrap returns the watcher's error.
func (e *WatcherError) Unwrap() error { return e.Err }

func on(host string) string {
	if host == "" {
		return ""
	}
	return " on " + host
}
