package task

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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
	Func func(ctx context.Context, c *Context) error

	// Dir is the working directory of the task's commands, relative to
	// the tasks.toml directory. Empty means that directory.
	Dir string
	// Env holds environment variables for the task's commands.
	Env map[string]string
	// Pty forces (true) or forbids (false) a pseudo-terminal; nil lets the
	// runner decide from whether stdin is a terminal.
	Pty *bool
	// Warn reports a failing command and carries on instead of stopping.
	Warn bool
	// Timeout stops each command that runs longer. Zero means none.
	Timeout time.Duration
	// Retries re-runs a failing command up to this many more times.
	Retries int
	// Sudo runs the task's commands through sudo as this user ("root"
	// for sudo = true). Empty means no sudo.
	Sudo string
	// Responders answer prompts in the task's output.
	Responders []Responder
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

	pos  pos    // where the task was declared, for errors
	file string // the tasks.toml it came from; "" for Go tasks
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
	Mode  string // permission bits for Put/Get, like "0755"

	Sudo       string // as Task.Sudo; overrides it when set
	NoSudo     bool   // sudo = false on a step of a sudo task
	Warn       bool
	Dir        string
	Env        map[string]string
	Pty        *bool
	Timeout    time.Duration
	Retries    *int // as Task.Retries; overrides it when set
	Once       bool // on a multi-host task: run on the first host only
	Responders []Responder

	pos pos
}

// Responder answers a prompt: when Pattern (a regular expression)
// appears in the output, Response is written to the command's stdin.
// ResponseEnv names an environment variable holding the response instead,
// for secrets that must not sit in tasks.toml.
type Responder struct {
	Pattern     string
	Response    string
	ResponseEnv string
}

// ArgType is the type of a task argument.
type ArgType string

// The argument types.
const (
	String   ArgType = "string"
	Int      ArgType = "int"
	Bool     ArgType = "bool"
	Duration ArgType = "duration"
)

// Arg declares one argument of a task.
type Arg struct {
	Name string // --name on the command line
	// Type is the argument's type; empty means String.
	Type ArgType
	// Default is used when the argument is not given: a value of the
	// type's Go type (string, int, bool, time.Duration) or a string that
	// parses as one. Nil means the zero value (or required).
	Default any
	// Required arguments must be given.
	Required bool
	Help     string
	// Short is a one-letter alias, given as -x.
	Short string
}

func (a *Arg) kind() ArgType {
	if a.Type == "" {
		return String
	}
	return a.Type
}

// Parse turns a command-line string into the argument's Go value.
func (a *Arg) Parse(s string) (any, error) {
	switch a.kind() {
	case String:
		return s, nil
	case Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return n, nil
	case Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration like 30s, 5m or 1h30m", s)
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown type %q (use string, int, bool or duration)", a.Type)
}

// defaultValue returns the typed default, checking it fits the type.
func (a *Arg) defaultValue() (any, error) {
	if a.Default == nil {
		switch a.kind() {
		case Int:
			return 0, nil
		case Bool:
			return false, nil
		case Duration:
			return time.Duration(0), nil
		}
		return "", nil
	}
	switch v := a.Default.(type) {
	case string:
		if a.kind() == String {
			return v, nil
		}
		return a.Parse(v)
	case int:
		if a.kind() == Int {
			return v, nil
		}
	case int64:
		if a.kind() == Int {
			return int(v), nil
		}
	case bool:
		if a.kind() == Bool {
			return v, nil
		}
	case time.Duration:
		if a.kind() == Duration {
			return v, nil
		}
	}
	return nil, fmt.Errorf("default %v (%T) does not fit type %s", a.Default, a.Default, a.kind())
}

// formatValue renders an argument value the way it is substituted.
func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case time.Duration:
		return v.String()
	}
	return fmt.Sprint(v)
}

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
