package task

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gotask/gotask/runner"
)

// PreconditionError reports a precondition of a task that failed: the
// run stopped before any task started.
type PreconditionError struct {
	Task string
	Sh   string // the command, as written
	Msg  string // what to do, from tasks.toml; may be empty
	Err  error  // how the command failed
}

func (e *PreconditionError) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = fmt.Sprintf("%q failed (%v)", e.Sh, e.Err)
	}
	return fmt.Sprintf("task %q: precondition: %s", e.Task, msg)
}

func (e *PreconditionError) Unwrap() error { return e.Err }

// condition runs the shell condition line (declared at at, a step's if
// when st is set) with no input or output and no sudo: true when it
// exits 0, false when it exits non-zero. It runs on this machine when
// local is set, else where the scope's commands run. Conditions run in
// dry runs too, since they decide what a dry run shows.
func (s *scope) condition(ctx context.Context, line string, at pos, st *Step, local bool) (bool, error) {
	c, err := s.command(line, at, st)
	if err != nil {
		return false, &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	c.sudo, c.retries, c.stdin, c.hide = "", 0, nil, true
	c.local = local
	if local && s.hostDir {
		c.dir = c.stepDir // the task's dir is a path on its hosts
	}
	cmd, err := s.runnerCmd(ctx, c)
	if err != nil {
		return false, &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	cmd.Stdout, cmd.Stderr, cmd.Stdin, cmd.Pty = nil, nil, nil, runner.PtyOff
	r := s.run
	if local || r == nil {
		r = s.e.Local
	}
	_, err = r.Run(ctx, cmd)
	var exit *runner.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && ctx.Err() == nil:
		return false, nil
	}
	return false, &TaskError{Task: s.t.Name, Host: s.host, Err: fmt.Errorf("condition %q: %w", c.line, err)}
}

// skipped says, with -e or -n, that a task or step was skipped.
func (s *scope) skipped(what, cond string) {
	if s.e.Echo || s.e.Dry {
		fmt.Fprintf(s.stderr, "gotask: %s skipped: if %q was false\n", what, cond)
	}
}

// taskIf runs t's if condition on this machine; false skips the task.
// remote says the task runs on hosts, so its dir is not a path here.
func (e *execution) taskIf(ctx context.Context, t *Task, args map[string]any, remote bool) (bool, error) {
	if t.If == "" {
		return true, nil
	}
	s := e.newScope(ctx, t, args, "", e.Local)
	s.hostDir = remote
	defer s.close()
	ok, err := s.condition(ctx, t.If, t.pos.child("if", -1), nil, true)
	if err == nil && !ok {
		s.skipped("task "+t.Name, t.If)
	}
	return ok, err
}

// checkPreconditions runs the preconditions of every task that the
// calls can run (their deps, post tasks and called tasks, with their
// default arguments), before any of them starts. A task called with
// arguments that its defaults cannot stand in for (a required one) has
// its preconditions checked when it starts instead.
func (e *execution) checkPreconditions(ctx context.Context, tasks []*Task, args []map[string]any) error {
	seen := map[*Task]bool{}
	var visit func(t *Task, args map[string]any) error
	visit = func(t *Task, args map[string]any) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		if args != nil && len(t.Preconditions) > 0 {
			if err := e.preconditions(ctx, t, args); err != nil {
				return err
			}
			e.preChecked.Store(t, true)
		}
		var next []string
		next = append(next, t.Deps...)
		next = append(next, t.Post...)
		for _, st := range t.Steps {
			if st.Task != "" {
				next = append(next, st.Task)
			}
		}
		for _, name := range next {
			u, err := e.Registry.Resolve(name)
			if err != nil {
				continue // running it reports the unknown task
			}
			uargs, _ := u.ParseArgs(nil) // nil: checked when it starts
			if err := visit(u, uargs); err != nil {
				return err
			}
		}
		return nil
	}
	for i, t := range tasks {
		if err := visit(t, args[i]); err != nil {
			return err
		}
	}
	return nil
}

// preconditions runs t's preconditions on this machine, in the task's
// dir unless that is a path on its hosts.
func (e *execution) preconditions(ctx context.Context, t *Task, args map[string]any) error {
	s := e.newScope(ctx, t, args, "", e.Local)
	s.hostDir = len(t.Hosts) > 0 || len(e.Hosts) > 0
	defer s.close()
	for _, p := range t.Preconditions {
		ok, err := s.condition(ctx, p.Sh, p.pos, nil, true)
		if err != nil {
			return err
		}
		if !ok {
			return &PreconditionError{Task: t.Name, Sh: p.Sh, Msg: p.Msg, Err: errors.New("exited non-zero")}
		}
	}
	return nil
}

// MaxRetryDelay bounds the wait between retries, which doubles from
// RetryDelay.
const MaxRetryDelay = 30 * time.Second

// waitRetry waits d before a retry, or until ctx is done.
func (e *execution) waitRetry(ctx context.Context, d time.Duration) error {
	if e.sleep != nil {
		return e.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
