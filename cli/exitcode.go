package cli

import (
	"context"
	"errors"
	"slices"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/remote"
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
		auth    *responder.AuthError
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

// hint returns what the user can do about err in gotask's terms (the
// flag to pass, the file to fix), or "" when there is nothing to add.
// The packages below cli return typed errors in their own API terms;
// this is the one place that names gotask's flags for them. Main adds
// the hint to the error it prints, and the summary of a run on several
// hosts to the row of a host that failed.
func hint(err error) string {
	var (
		hostKey *remote.HostKeyError
		sshCfg  *remote.ConfigFileError
		auth    *responder.AuthError
		unknown *task.UnknownTaskError
	)
	switch {
	case errors.As(err, &unknown) && unknown.Suggestion == "" && slices.Contains(task.ServiceVerbs, unknown.Name):
		return "gotask " + unknown.Name + " works on services, and this project declares none: add a [services.NAME] table with run = \"...\" (see the README's Services), or run gotask -l to list the tasks"
	case errors.As(err, &unknown) && unknown.Suggestion == "":
		return "run gotask -l to list the tasks"
	case errors.As(err, &hostKey) && hostKey.Unknown():
		return "check that fingerprint with the host's administrator, then rerun with --accept-new-host-keys to trust it and record it"
	case errors.As(err, &sshCfg):
		return "or pass another with --ssh-config FILE, or --ssh-config none for none"
	case errors.As(err, &auth):
		return "check GOTASK_SUDO_PASSWORD or --sudo-password-cmd"
	case errors.Is(err, task.ErrNoAnswer):
		return "pass --yes to run it anyway"
	case errors.Is(err, task.ErrNoHostsLeft):
		return "check --only and --exclude"
	case errors.Is(err, remote.ErrMuxKey):
		return "stop it with gotask --persist-stop"
	case errors.Is(err, remote.ErrPersistUnsupported):
		return "run without --persist (and without ssh_config ControlPersist)"
	}
	return ""
}

// withHint is err's message followed by its hint, if it has one. A run
// on several hosts ends with a count of the failures; the summary above
// it gave each host's row its own hint.
func withHint(err error) string {
	var hosts *task.HostsError
	if errors.As(err, &hosts) {
		return err.Error()
	}
	if h := hint(err); h != "" {
		return err.Error() + "; " + h
	}
	return err.Error()
}
