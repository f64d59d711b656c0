// Package tasktest runs Go tasks in unit tests, in the manner of Invoke's
// MockContext: New makes the task.Job a task's function gets, whose
// commands are recorded and answered from a script instead of run.
//
//	j, err := tasktest.New(task.Task{Name: "deploy", Func: deploy}, tasktest.Config{
//		Results: map[string]tasktest.Result{"git rev-parse HEAD": {Stdout: "abc123\n"}},
//	})
//	err = deploy(t.Context(), j.Job)
//	// j.Lines() is every command deploy ran, in order.
//
// A command with no scripted result fails with an error that names it,
// so a test cannot pass while its task runs something the test did not
// foresee.
package tasktest

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/task"
)

// Result is the scripted outcome of one command.
type Result struct {
	Stdout, Stderr string // what the command prints; Stdout is also shown unless hidden
	ExitCode       int    // non-zero makes the command fail with a *runner.ExitError
	Err            error  // when set, the command fails with this error instead
}

// Config is the job to make and the script its commands follow.
type Config struct {
	// Args are the task's arguments as given on the command line; the
	// task's defaults fill in the rest.
	Args map[string]string
	// Host is the host the job runs on; "" means this machine.
	Host string
	// Vars are the tasks.toml vars the job's Var returns.
	Vars map[string]string
	// Results holds the outcome of each command, by its exact line. A
	// command run more than once gets the same result each time.
	Results map[string]Result
}

// Job is a task.Job for a unit test, with the commands its task ran and
// what it printed.
type Job struct {
	*task.Job

	results        map[string]Result
	mu             sync.Mutex
	ran            []task.Command
	stdout, stderr bytes.Buffer
}

// New makes the Job that task t gets when called with cfg.Args, on
// cfg.Host. It fails as Registry.Add fails for a bad task, and as a run
// does for bad arguments.
func New(t task.Task, cfg Config) (*Job, error) {
	j := &Job{results: cfg.Results}
	tj, err := task.NewJob(t, task.JobConfig{
		Args: cfg.Args, Host: cfg.Host, Vars: cfg.Vars,
		Stdout: lockedWriter{&j.mu, &j.stdout}, Stderr: lockedWriter{&j.mu, &j.stderr},
		Commands: j,
	})
	if err != nil {
		return nil, err
	}
	j.Job = tj
	return j, nil
}

// RunCommand records c and answers it from the script; it is how the
// Job's commands reach this package, not for tests to call.
func (j *Job) RunCommand(_ context.Context, c *task.Command) (*runner.Result, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ran = append(j.ran, *c)
	r, ok := j.results[c.Line]
	if !ok {
		return &runner.Result{ExitCode: -1, Host: c.Host}, fmt.Errorf("tasktest: no result scripted for %q; add it to Config.Results", c.Line)
	}
	res := &runner.Result{Stdout: []byte(r.Stdout), Stderr: []byte(r.Stderr), ExitCode: r.ExitCode, Host: c.Host}
	if !c.Hide {
		j.stdout.WriteString(r.Stdout)
	}
	j.stderr.WriteString(r.Stderr)
	switch {
	case r.Err != nil:
		return res, r.Err
	case r.ExitCode != 0:
		return res, &runner.ExitError{Command: c.Line, Host: c.Host, Code: r.ExitCode}
	}
	return res, nil
}

// Commands returns the commands the task ran, in order.
func (j *Job) Commands() []task.Command {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]task.Command(nil), j.ran...)
}

// Lines returns the command lines the task ran, in order.
func (j *Job) Lines() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	lines := make([]string, len(j.ran))
	for i, c := range j.ran {
		lines[i] = c.Line
	}
	return lines
}

// Output returns what the task printed: to its Stdout, and the scripted
// output of its commands that were not hidden.
func (j *Job) Output() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stdout.String()
}

// Errors returns what the task and its commands wrote to Stderr,
// gotask's warnings included.
func (j *Job) Errors() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stderr.String()
}

// lockedWriter writes to a buffer under the Job's lock, as a task may
// write from several goroutines.
type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}
