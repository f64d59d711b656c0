package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gotask/gotask/internal/fingerprint"
	"github.com/gotask/gotask/runner"
)

// StateDirName is the directory beside tasks.toml where gotask records
// what it last built, for sources and generates. Deleting it is safe: the
// tasks concerned then run again.
const StateDirName = ".gotask"

// UpToDate says whether a task's work is already done.
type UpToDate struct {
	UpToDate bool
	Reasons  []string // why not, for people: "src/a.go changed", ...
	status   *fingerprint.Status
	store    *fingerprint.Store
	key      string // the task's state key in store
}

// skippable reports whether the task declares a way to be skipped.
func (t *Task) skippable() bool {
	return len(t.Sources) > 0 || len(t.Generates) > 0 || len(t.Status) > 0
}

// Status checks whether the task named by call is up to date, running
// nothing but its status commands. It fails for a task that declares no
// sources, generates or status.
func (e *Executor) Status(ctx context.Context, call Call) (*UpToDate, error) {
	t, err := e.Registry.Resolve(call.Name)
	if err != nil {
		return nil, err
	}
	if !t.skippable() {
		return nil, &ArgError{Task: t.Name, Err: fmt.Errorf("declares no sources, generates or status, so it is never up to date")}
	}
	args, err := t.ParseArgs(call.Args)
	if err != nil {
		return nil, err
	}
	x := e.newExecution()
	x.ctx = ctx
	if err := x.evalVars(ctx, []*Task{t}); err != nil {
		return nil, err
	}
	if err := x.checkCommands(t, args); err != nil {
		return nil, err
	}
	return x.upToDate(ctx, x.newScope(ctx, t, args, "", e.Local), false)
}

// upToDate runs the checks the task declares: every status command must
// exit 0, and the fingerprint of its sources, definition and arguments
// must match the one recorded after its last successful run. With
// noStatus the status commands are not run: the task runs anyway.
func (e *execution) upToDate(ctx context.Context, s *scope, noStatus bool) (*UpToDate, error) {
	t := s.t
	u := &UpToDate{UpToDate: true}
	for i, line := range t.Status {
		if noStatus {
			break
		}
		c, err := s.command(line, t.pos.child("status", i), nil)
		if err != nil {
			return nil, &TaskError{Task: t.Name, Err: fmt.Errorf("status: %w", err)}
		}
		cmd, err := s.runnerCmd(ctx, c)
		if err != nil {
			return nil, &TaskError{Task: t.Name, Err: err}
		}
		cmd.Stdout, cmd.Stderr, cmd.Stdin, cmd.Pty = nil, nil, nil, runner.PtyOff
		if _, err := e.Local.Run(ctx, cmd); err != nil {
			u.UpToDate = false
			u.Reasons = append(u.Reasons, fmt.Sprintf("status %q: %v", c.line, err))
		}
	}
	if len(t.Sources) == 0 && len(t.Generates) == 0 {
		return u, nil
	}
	spec, err := s.fingerprintSpec()
	if err != nil {
		return nil, &TaskError{Task: t.Name, Err: err}
	}
	u.store = &fingerprint.Store{Dir: filepath.Join(e.Registry.Dir, StateDirName)}
	u.key = s.stateKey()
	st, err := u.store.Check(ctx, u.key, spec)
	if err != nil && ctx.Err() != nil {
		// Ctrl-C during the check: say so, not "context canceled".
		return nil, &TaskError{Task: t.Name, Err: stoppedError{"interrupted during its up-to-date check", ctx.Err()}}
	}
	if err != nil {
		return nil, &TaskError{Task: t.Name, Err: fmt.Errorf("up-to-date check: %w", err)}
	}
	u.status = st
	if !st.UpToDate {
		u.UpToDate = false
		u.Reasons = append(u.Reasons, st.Reasons...)
	}
	return u, nil
}

// forget removes the record of the last successful run, if there is one.
func (u *UpToDate) forget() error {
	if u == nil || u.status == nil {
		return nil
	}
	return u.store.Forget(u.key)
}

// record notes a successful run, so that the next check can skip it.
func (u *UpToDate) record(ctx context.Context) error {
	if u == nil || u.status == nil {
		return nil
	}
	return u.store.Record(ctx, u.status)
}

func (s *scope) fingerprintSpec() (*fingerprint.Spec, error) {
	t := s.t
	spec := &fingerprint.Spec{UseGitignore: t.UseGitignore}
	dir, err := expand(t.Dir, s.lookup)
	if err != nil {
		return nil, err
	}
	spec.Dir = joinDir(s.t.dirIn(s.e.Registry), dir)
	for _, list := range []struct {
		in  []string
		out *[]string
	}{{t.Sources, &spec.Sources}, {t.Generates, &spec.Generates}} {
		for _, p := range list.in {
			x, err := expand(p, s.lookup)
			if err != nil {
				return nil, err
			}
			*list.out = append(*list.out, x)
		}
	}
	spec.Definition = s.definition()
	return spec, nil
}

// stateKey names the task and its argument values, so that build --os
// linux and build --os darwin keep separate records.
func (s *scope) stateKey() string {
	var b strings.Builder
	b.WriteString(s.t.Name)
	for _, k := range slices.Sorted(maps.Keys(s.args)) {
		if words, ok := s.args[k].([]string); ok {
			if len(words) > 0 { // none: the key of a task without lists stays as it was
				fmt.Fprintf(&b, " --%s=%q", k, words)
			}
			continue
		}
		fmt.Fprintf(&b, " --%s=%s", k, formatValue(s.args[k]))
	}
	return b.String()
}

// definition encodes what the task does, so that editing its commands,
// env or options makes it out of date. A Go task's code is not seen.
func (s *scope) definition() []byte {
	t := s.t
	def := struct {
		Steps                 []Step
		Env                   map[string]string
		Dir, Sudo             string
		Sources, Generates    []string
		Vars                  map[string]string
		Args                  map[string]string
		UseGitignore, HasFunc bool
		// The values of issue 16, left out when unused so that the
		// records of tasks that use none stay valid.
		Computed map[string]string `json:",omitempty"` // computed vars the task uses
		TopEnv   map[string]string `json:",omitempty"` // [env]
		Dotenv   map[string]string `json:",omitempty"` // its dotenv files' variables
		Forward  []Tunnel          `json:",omitempty"`
		Reverse  []Tunnel          `json:",omitempty"`
	}{Forward: t.Forward, Reverse: t.Reverse, Steps: t.Steps, Env: t.Env, Dir: t.Dir, Sudo: t.Sudo, Sources: t.Sources, Generates: t.Generates,
		Vars: s.e.Registry.Vars, Args: map[string]string{}, UseGitignore: t.UseGitignore, HasFunc: t.Func != nil}
	for k, v := range s.args {
		if words, ok := v.([]string); ok {
			if len(words) > 0 {
				def.Args[k] = fmt.Sprintf("%q", words)
			}
			continue
		}
		def.Args[k] = formatValue(v)
	}
	def.Computed, def.TopEnv, def.Dotenv = s.valuesUsed()
	b, _ := json.Marshal(def) // plain data: cannot fail
	return b
}

// WatchSources returns what a watcher must watch to see the sources of
// the task call names change: the directory its sources are relative to
// and their globs, with {{.name}} values substituted as the up-to-date
// check does, followed by each of its generates as a "!" glob, so that
// what the task writes does not count as a change. A task without
// sources is an *ArgError naming it.
func (e *Executor) WatchSources(ctx context.Context, call Call) (dir string, globs []string, err error) {
	t, err := e.Registry.Resolve(call.Name)
	if err != nil {
		return "", nil, err
	}
	if len(t.Sources) == 0 {
		return "", nil, &ArgError{Task: t.Name, Err: errors.New(`has no sources to watch; add sources = ["**/*.go", ...] to it, the files whose changes should run it again`)}
	}
	args, err := t.ParseCall(call)
	if err != nil {
		return "", nil, err
	}
	x := e.newExecution()
	x.ctx = ctx
	if err := x.evalVars(ctx, []*Task{t}); err != nil {
		return "", nil, err
	}
	spec, err := x.newScope(ctx, t, args, "", e.Local).fingerprintSpec()
	if err != nil {
		return "", nil, &TaskError{Task: t.Name, Err: err}
	}
	globs = slices.Clone(spec.Sources)
	for _, g := range spec.Generates {
		if !strings.HasPrefix(g, "!") {
			globs = append(globs, "!"+g)
		}
	}
	return spec.Dir, globs, nil
}

// stoppedError says in the user's words what a cancelled context stopped,
// and still is that context's error for errors.Is (the exit code).
type stoppedError struct {
	msg   string
	cause error
}

func (e stoppedError) Error() string { return e.msg }
func (e stoppedError) Unwrap() error { return e.cause }
