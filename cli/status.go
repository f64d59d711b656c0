package cli

import (
	"context"
	"fmt"

	"github.com/gotask/gotask/task"
)

// errNotUpToDate is --status's answer for a task that would run.
var errNotUpToDate = &exitStatus{code: ExitFailure}

// exitStatus ends the run with a code and no further message.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// showStatus answers --status: whether each named task is up to date.
func showStatus(ctx context.Context, s *Streams, e *task.Executor, calls []task.Call) error {
	var stale bool
	for _, c := range calls {
		u, err := e.Status(ctx, c)
		if err != nil {
			return err
		}
		if u.UpToDate {
			fmt.Fprintf(s.Out, "task %s is up to date\n", c.Name)
			continue
		}
		stale = true
		fmt.Fprintf(s.Out, "task %s is not up to date:\n", c.Name)
		for _, r := range u.Reasons {
			fmt.Fprintf(s.Out, "  %s\n", r)
		}
	}
	if stale {
		return errNotUpToDate
	}
	return nil
}
