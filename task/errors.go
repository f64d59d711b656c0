package task

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// LoadError is a mistake in tasks.toml or in a task added from Go code.
// Nothing runs when loading fails.
type LoadError struct {
	File      string // "" for tasks from Go code
	Line, Col int    // 1-based; 0 when unknown
	Msg       string

	path []string // key path in the document, resolved to Line and Col
}

func (e *LoadError) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line == 0:
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// TaskError is a task that failed, wrapping why.
type TaskError struct {
	Task string
	Host string // "" when it ran locally
	Err  error
}

func (e *TaskError) Error() string {
	if e.Host != "" {
		return fmt.Sprintf("task %q on %s: %v", e.Task, e.Host, e.Err)
	}
	return fmt.Sprintf("task %q: %v", e.Task, e.Err)
}

func (e *TaskError) Unwrap() error { return e.Err }

// ArgError is a bad command-line argument: a usage error.
type ArgError struct {
	Task, Arg string
	Err       error
}

func (e *ArgError) Error() string {
	if e.Arg == "" {
		return fmt.Sprintf("task %q: %v", e.Task, e.Err)
	}
	return fmt.Sprintf("task %q: argument --%s: %v", e.Task, e.Arg, e.Err)
}

func (e *ArgError) Unwrap() error { return e.Err }

// HostResult is how a task ended on one host.
type HostResult struct {
	Host     string
	Status   string // "ok", "failed", "unreachable" or "skipped"
	ExitCode int    // of the failing command, when there was one
	Step     string // the failing step, when known
	Err      error
	Duration time.Duration
}

// HostsError reports a task that failed on some of its hosts. It unwraps
// to the first failure, so errors.As finds its *runner.ExitError.
type HostsError struct {
	Task    string
	Results []HostResult
	first   error
}

func (e *HostsError) Error() string {
	counts := map[string]int{}
	for _, r := range e.Results {
		counts[r.Status]++
	}
	var parts []string
	for _, s := range []string{"failed", "unreachable", "skipped"} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return fmt.Sprintf("task %q: %s of %d hosts", e.Task, strings.Join(parts, ", "), len(e.Results))
}

func (e *HostsError) Unwrap() error { return e.first }

// UnknownTaskError reports a task name that matches no task or alias.
type UnknownTaskError struct {
	Name       string
	Suggestion string // the closest known name, if one is close
}

func (e *UnknownTaskError) Error() string {
	if e.Suggestion != "" {
		return fmt.Sprintf("unknown task %q; did you mean %q?", e.Name, e.Suggestion)
	}
	return fmt.Sprintf("unknown task %q", e.Name)
}

// PlaceError is a placeholder that stands where no value can be made
// safe, or a command gotask cannot parse to find out.
type PlaceError struct {
	Name      string // the placeholder's name; "" for a syntax error
	Line, Col int    // 1-based, within the command
	Msg       string
}

func (e *PlaceError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("line %d, column %d of the command: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("{{.%s}} at line %d, column %d of the command: %s", e.Name, e.Line, e.Col, e.Msg)
}

// ValueError is a value that cannot stand where its placeholder stands:
// a non-integer in arithmetic, a line that would end a here-document, a
// NUL byte, or a command too long for a command line.
type ValueError struct {
	Name string // the placeholder
	Msg  string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("value of {{.%s}} %s", e.Name, e.Msg)
}

// ErrNoAnswer is wrapped by the error of a task whose confirm question
// no one can answer: Executor.Confirm is nil and AssumeYes is false.
var ErrNoAnswer = errors.New("there is no terminal to answer")

// ErrNoHostsLeft is wrapped by the error of a task whose hosts are all
// left out by Executor.Only and Executor.Exclude.
var ErrNoHostsLeft = errors.New("no hosts left to run on")
