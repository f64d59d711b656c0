package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gotask/gotask/internal/watch"
	"github.com/gotask/gotask/task"
)

// watchRun is gotask --watch: it runs the calls, then runs them again
// whenever a source of a task they name changes (its sources globs,
// less what it generates), until ctx ends (Ctrl-C). A change while they
// run cancels the run (its commands are stopped as on Ctrl-C) and starts
// it again. Each rerun is announced on errOut with what changed; a
// failed run is reported with report and watching goes on. The watchers
// are set up before the first run, so a change during it counts. Reruns
// force the named tasks (not their deps): see the README's Watch mode.
func watchRun(ctx context.Context, e *task.Executor, calls []task.Call, errOut io.Writer, report func(error)) error {
	changes := make(chan watch.Change)
	failed := make(chan error, len(calls))
	// The forwarders below end with watchRun, whichever way it returns.
	stop := make(chan struct{})
	defer close(stop)
	var names []string
	for _, c := range calls {
		names = append(names, c.Name)
		dir, globs, err := e.WatchSources(ctx, c)
		if err != nil {
			return err
		}
		w, err := watch.New(dir, globs)
		if err != nil {
			return &task.TaskError{Task: c.Name, Err: fmt.Errorf("watching its sources: %w", err)}
		}
		defer w.Close()
		go func() {
			for ch := range w.Events() {
				select {
				case changes <- ch:
				case <-stop:
					return
				}
			}
			if err := w.Err(); err != nil {
				failed <- &task.TaskError{Task: c.Name, Err: fmt.Errorf("watching its sources: %w", err)}
			}
		}()
	}
	running := strings.Join(names, " ")
	forced := false
	for {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- e.Run(runCtx, calls...) }()
		var next watch.Change
		select {
		case err := <-done:
			cancel()
			if err != nil {
				report(err)
			}
			if ctx.Err() != nil {
				return errWatchEnded
			}
			select {
			case next = <-changes:
			case err := <-failed:
				return err
			case <-ctx.Done():
				return errWatchEnded
			}
		case next = <-changes:
			// Stop the run, as Ctrl-C would, and start again.
			cancel()
			<-done
		case err := <-failed:
			cancel()
			<-done
			return err
		case <-ctx.Done():
			// Ctrl-C during a run: say what it stopped, as without
			// --watch.
			if err := <-done; err != nil {
				report(err)
			}
			cancel()
			return errWatchEnded
		}
		// Changes that came while the run was stopping belong to this
		// rerun.
		next = merge(next, changes)
		if ctx.Err() != nil {
			return errWatchEnded
		}
		fmt.Fprintf(errOut, "gotask: %s changed; running %s\n", next, running)
		// A rerun runs the named tasks even if they look up to date: an
		// edit saved as a run ended is in that run's record (the record
		// is taken after the run), so the check would miss it. Their
		// deps are checked as usual.
		if !forced {
			e.Force = append(slices.Clip(e.Force), names...)
			forced = true
		}
	}
}

// errWatchEnded is how watch mode ends on Ctrl-C: exit 130, with nothing
// more to say (what a run it stopped said is said already).
var errWatchEnded = &exitStatus{code: ExitInterrupted}

// merge adds to c the changes waiting in ch, without waiting.
func merge(c watch.Change, ch <-chan watch.Change) watch.Change {
	for {
		select {
		case more := <-ch:
			c.Overflow = c.Overflow || more.Overflow
			for _, p := range more.Paths {
				if !slices.Contains(c.Paths, p) {
					c.Paths = append(c.Paths, p)
				}
			}
		default:
			slices.Sort(c.Paths)
			return c
		}
	}
}
