package task

import (
	"context"
	"errors"
	"io"
	"maps"
	"time"

	"github.com/gotask/gotask/runner"
)

// Command is one command a Go task ran through a Job made by NewJob, as
// its CommandRunner gets it: the line as the task wrote it, never
// wrapped for sudo, with every option resolved.
type Command struct {
	Line    string            // the shell command given to Run, Sudo or Local
	Host    string            // the job's host; "" on this machine
	Local   bool              // given to Local: on this machine even in a task with hosts
	Sudo    string            // the user it runs as through sudo ("root" for Sudo); "" without
	Dir     string            // the working directory (the task's Dir, InDir); "" for the default
	Env     map[string]string // the variables set for it (the task's Env, WithEnv); nil for none
	Stdin   io.Reader         // its input (the job's, or WithStdin); nil for none
	Hide    bool              // Hide: its output is captured, not shown
	Warn    bool              // Warn: a failure is returned as a Result, not an error
	Timeout time.Duration     // WithTimeout or the task's Timeout; zero for none
}

// CommandRunner runs the commands of a Job made by NewJob, in place of
// the runners and of sudo. A failing command returns a
// *runner.ExitError, as a runner does; the Job applies Warn and the
// task's retries to it as an Executor would. Any other error says the
// CommandRunner cannot answer (a command no test foresaw): the Job
// returns it even under Warn.
type CommandRunner interface {
	RunCommand(ctx context.Context, c *Command) (*runner.Result, error)
}

// JobConfig says where a Job made by NewJob runs and who runs its
// commands.
type JobConfig struct {
	// Args are the task's arguments as given on the command line
	// (--pid 42 is "pid": "42"); the task's defaults fill in the rest.
	Args map[string]string
	// Host is the host the job runs on; "" means this machine.
	Host string
	// Vars are the tasks.toml vars that Job.Var returns.
	Vars map[string]string
	// Stdin is the job's input; nil means none. Stdout and Stderr are
	// what Job.Stdout and Job.Stderr return; nil discards.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Commands runs every command of the job. Required.
	Commands CommandRunner
}

// NewJob makes the Job that an Executor would give t's function, without
// an Executor, for a unit test of a Go task: call the function with it
// and see what it ran (package task/tasktest does this for tests). t is
// checked as Registry.Add checks it. The job's commands go to
// cfg.Commands; Put and Get fail, as there is no host to copy to, and
// Task fails for any task but t.
func NewJob(t Task, cfg JobConfig) (*Job, error) {
	if cfg.Commands == nil {
		return nil, errors.New("NewJob needs JobConfig.Commands to run the job's commands")
	}
	reg := NewRegistry()
	maps.Copy(reg.Vars, cfg.Vars)
	if err := reg.Add(t); err != nil {
		return nil, err
	}
	tk, err := reg.Resolve(t.Name)
	if err != nil {
		return nil, err
	}
	args, err := tk.ParseArgs(cfg.Args)
	if err != nil {
		return nil, err
	}
	e := &Executor{Registry: reg, Stdin: cfg.Stdin, Stdout: cfg.Stdout, Stderr: cfg.Stderr}
	x := e.newExecution()
	x.commands = cfg.Commands
	return &Job{s: x.newScope(context.Background(), tk, args, cfg.Host, nil)}, nil
}

// public is c as a CommandRunner gets it.
func (s *scope) public(c *command) *Command {
	return &Command{Line: c.line, Host: s.host, Local: c.local, Sudo: c.sudo, Dir: c.dir,
		Env: maps.Clone(c.env), Stdin: c.stdin, Hide: c.hide, Warn: c.warn, Timeout: c.timeout}
}
