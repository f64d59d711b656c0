package task

import (
	"context"
	"io/fs"
	"time"

	"github.com/gotask/gotask/runner"
)

// Task is one named unit of work: shell commands (Run or Steps, from
// tasks.toml) or a Go function (Func), with typed arguments, dependencies
// and options.
type Task struct {
	// Name is how the task is called on the command line. Required: a
	// letter followed by letters, digits, '-', '_', ':' or '.'.
	Name string
	// Help describes the task; its first line shows in the list.
	Help string
	// Aliases are other names for the task.
	Aliases []string
	// Args are the task's typed arguments, given as --name value.
	Args []Arg
	// Deps name tasks that run before this one, each at most once per
	// invocation of gotask. Independent deps may run at the same time.
	Deps []string
	// Post name tasks that run after this one succeeds.
	Post []string

	// Steps are what the task runs, in order. A tasks.toml `run` becomes
	// one Run step per command.
	Steps []Step
	// Func is the body of a task written in Go. A task has Steps or Func,
	// not both.
	Func func(ctx context.Context, c *Job) error

	// Dir is the working directory of the task's commands, relative to
	// the tasks.toml directory. Empty means that directory.
	Dir string
	// Env holds environment variables for the task's commands.
	Env map[string]string
	// Dotenv lists dotenv files, relative to the tasks.toml directory,
	// whose variables the task's commands get, over the registry's and
	// under Env. A missing file is skipped unless its entry starts with
	// '!'.
	Dotenv []string
	// Pty forces (true) or forbids (false) a pseudo-terminal; nil lets the
	// runner decide from whether stdin is a terminal.
	Pty *bool
	// Warn reports a failing command and carries on instead of stopping.
	Warn bool
	// Timeout stops each command that runs longer. Zero means none.
	Timeout time.Duration
	// ForwardAgent forwards the local ssh-agent to the hosts for the
	// task's remote commands (tasks.toml's forward_agent). False, the
	// default, forwards it nowhere unless --forward-agent lets a host's
	// ssh_config ForwardAgent yes do so.
	ForwardAgent bool
	// Nice runs the task's commands at this niceness (nice -n), on this
	// machine; zero leaves it as gotask's.
	Nice int
	// Retries re-runs a failing command up to this many more times.
	Retries int
	// Sudo runs the task's commands through sudo as this user ("root"
	// for sudo = true). Empty means no sudo.
	Sudo string
	// Answers answer prompts in the task's output (tasks.toml's
	// responders).
	Answers []Answer
	// Hosts runs the task on these hosts (host strings or "@group")
	// over SSH instead of locally.
	Hosts []string
	// Serial runs the hosts in rolling batches of this many. Zero means
	// all at once, bounded by the parallelism setting.
	Serial int
	// MaxFail stops further batches once this many hosts have failed
	// ("3") or this share of them ("25%"). Empty means any failure stops
	// further batches of a serial task.
	MaxFail string
	// Batches, when set, replaces Serial: the size of each rolling batch
	// in turn, a count of hosts ("1") or a share of them ("10%", at
	// least one host); the last size repeats until every host has run,
	// so [1, "10%", "100%"] is a canary, then a tenth, then the rest.
	Batches []string
	// MaxFailPercent stops further batches once more than this share
	// (0 to 100) of a batch's hosts failed. Nil means not set: MaxFail
	// alone decides.
	MaxFailPercent *float64

	// Sources and Generates make the task skip its run when nothing
	// changed: see the README's "Up to date" section.
	Sources   []string
	Generates []string
	// Status commands report the task up to date by exiting 0.
	Status []string
	// UseGitignore skips sources that .gitignore excludes.
	UseGitignore bool

	// Hidden keeps the task out of the list; it still runs by name.
	Hidden bool
	// Confirm asks this question before the task runs ("" = don't ask).
	Confirm string

	// If is a shell condition, run on this machine before the task's
	// deps: a non-zero exit skips the task, its deps and post tasks.
	// Empty means always run.
	If string
	// RetryDelay is the wait before the first retry; each later one
	// waits twice as long, up to MaxRetryDelay. Zero retries at once.
	RetryDelay time.Duration
	// Until is a shell check run after each command, where it ran: the
	// command is retried (up to Retries more times) until the check
	// exits 0. Empty means a command that exits 0 is done.
	Until string
	// Preconditions must all pass, for every task of a run, before any
	// task of the run starts; a failing one stops the run with its Msg.
	Preconditions []Precondition

	pos  pos    // where the task was declared, for errors
	file string // the tasks.toml it came from; "" for Go tasks
	ns   string // the namespace of an included file's task ("web"); "" otherwise
	base string // the directory an included file's task runs in; "" for Registry.Dir
}

// Step is one thing a task does. Exactly one of Run, Task, Put, Get or
// Local is set.
type Step struct {
	Run   string            // a shell command, where the task runs
	Local string            // a shell command, always on this machine
	Task  string            // another task to call...
	With  map[string]string // ...with these arguments
	Put   string            // a local path to upload to To
	Get   string            // a remote path to download to To
	To    string
	Mode  fs.FileMode // permission bits for Put/Get (0o755); 0 keeps the source's

	Sudo    string // as Task.Sudo; overrides it when set
	NoSudo  bool   // sudo = false on a step of a sudo task
	Warn    bool
	Dir     string
	Env     map[string]string
	Pty     *bool
	Timeout time.Duration
	Retries *int     // as Task.Retries; overrides it when set
	Once    bool     // on a multi-host task: run on the first host only
	Answers []Answer // as Task.Answers; added to them
	// Capture, on a Run or Local step, names a value that later steps
	// of the task read as {{.name}}: the command's standard output
	// without its trailing newlines, kept per host. The command runs
	// with pipes, not a pseudo-terminal, so that stderr stays apart.
	Capture string

	// For runs the step once per item, the item as {{.item}}: the
	// items listed, or else the lines ForSh prints (empty ones left
	// out), run where the step runs. Neither: the step runs once.
	For   []string
	ForSh string
	// Parallel runs up to this many items of For at once, each line of
	// their output prefixed with the item; 0 or 1: one after another.
	Parallel int

	// If is a shell condition, run where the step would run: a non-zero
	// exit skips the step. Empty means always run.
	If string
	// RetryDelay and Until are as Task's; they override them when set.
	RetryDelay time.Duration
	Until      string
	// Defer makes the step (a Run or a Task) a cleanup: reaching it
	// registers it, and it runs when the task's steps end, failed or
	// not, after the cleanups registered later.
	Defer bool

	pos pos
}

// Precondition is a shell command that must exit 0 before a run starts;
// Msg tells the user what to do when it does not.
type Precondition struct {
	Sh  string
	Msg string

	pos pos
}

// Answer is a task's reply to a prompt (a `responders` entry in
// tasks.toml): when Pattern (a regular expression) appears in the
// output, Response is written to the command's stdin. ResponseEnv names
// an environment variable holding the response instead, for secrets that
// must not sit in tasks.toml. The executor turns each Answer into a
// *responder.Responder, the watcher that does the answering.
type Answer struct {
	Pattern     string
	Response    string
	ResponseEnv string
}

// The argument types.
const (
	String   ArgType = "string"
	Int      ArgType = "int"
	Bool     ArgType = "bool"
	Duration ArgType = "duration"
)

// ptyMode maps a *bool pty setting to the runner's mode.
func ptyMode(p *bool) runner.PtyMode {
	switch {
	case p == nil:
		return runner.PtyAuto
	case *p:
		return runner.PtyOn
	}
	return runner.PtyOff
}

// validName reports whether s may name a task, alias or argument.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '-' || r == '_' || r == ':' || r == '.'):
		default:
			return false
		}
	}
	return true
}
