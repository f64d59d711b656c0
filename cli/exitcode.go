package cli

import (
	"context"
	"errors"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/task"
)

// Exit codes beyond a command's own.
const (
	ExitOK          = 0
	ExitFailure     = 1   // a task failed without an exit status of its own
	ExitUsage       = 2   // bad flags or arguments, unknown task, bad tasks.toml
	ExitInterrupted = 130 // stopped by Ctrl-C, as shells report SIGINT
)

// UsageError is a mistake on the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ExitCode maps an error from Run to the process exit code. It is the one
// place where errors become exit codes: a failed command's own exit status
// passes through, usage and load errors are 2, Ctrl-C is 130.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var (
		usage   *UsageError
		load    *task.LoadError
		unknown *task.UnknownTaskError
		badArg  *task.ArgError
		exit    *runner.ExitError
		auth    *responder.AuthFailure
		status  *exitStatus
	)
	switch {
	case errors.As(err, &status):
		return status.code
	case errors.As(err, &usage), errors.As(err, &load), errors.As(err, &unknown), errors.As(err, &badArg):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &auth):
		return ExitFailure
	case errors.As(err, &exit):
		if exit.TimedOut {
			return 124 // as timeout(1) reports it
		}
		if exit.Code > 0 && exit.Code < 256 {
			return exit.Code
		}
	}
	return ExitFailure
}
