package task

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gotask/gotask/runner"
)

// This file holds the values a command's environment is built from
// besides a task's own env: tasks.toml's top-level [env] and the dotenv
// files of the file and of the task.
//
// A command's environment is, from the weakest to the strongest: the
// process's own environment, [env], the top-level dotenv files (in
// order, a later file overriding an earlier one), the task's dotenv
// files, the task's env, the step's env. A dotenv file is read when a
// task of the run needs it, never when tasks.toml is loaded, and its
// values are taken as they are written: no {{.name}}, no $VAR, no
// command substitution.

// dotenvFile is one entry of a dotenv list: a path relative to the
// tasks.toml directory, which must exist when the entry was written with
// a leading '!'.
type dotenvFile struct {
	path     string
	required bool
}

func parseDotenvEntry(s string) dotenvFile {
	p, req := strings.CutPrefix(s, "!")
	return dotenvFile{path: p, required: req}
}

// dotenvs remembers the dotenv files one run has read, so that each is
// read once per run however many commands use it.
type dotenvs struct {
	mu    sync.Mutex
	files map[string]map[string]string // absolute path -> its variables

	secret map[string]string // Registry.secretEnv, once per run
}

// read returns the variables of the dotenv files named by entries (as
// written in tasks.toml), merged in order, each path relative to dir. A
// missing file is skipped unless it is required.
func (d *dotenvs) read(dir string, entries []string) (map[string]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.files == nil {
		d.files = map[string]map[string]string{}
	}
	env := map[string]string{}
	for _, e := range entries {
		f := parseDotenvEntry(e)
		p := f.path
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		vars, ok := d.files[p]
		if !ok {
			data, err := os.ReadFile(p)
			switch {
			case errors.Is(err, fs.ErrNotExist) && !f.required:
				vars = map[string]string{}
			case errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("dotenv file %s does not exist; create it, or write %q to make it optional", p, f.path)
			case err != nil:
				return nil, fmt.Errorf("dotenv file: %w", err)
			default:
				if vars, err = parseDotenv(p, data); err != nil {
					return nil, err
				}
			}
			d.files[p] = vars
		}
		maps.Copy(env, vars)
	}
	return env, nil
}

// DotenvError is a syntax error in a dotenv file.
type DotenvError struct {
	File string
	Line int
	Msg  string
}

func (e *DotenvError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// parseDotenv reads the usual dotenv syntax: KEY=VALUE lines, optionally
// starting with "export ", blank lines and # comments. A value is bare
// (trimmed, up to a " #" comment), in single quotes (taken as written) or
// in double quotes (with the escapes \n, \t, \r, \", \\ and \$). Quoted
// values may span lines. Lines may end with \r\n, read as \n (also
// inside quotes). Nothing is ever expanded or run.
func parseDotenv(file string, data []byte) (map[string]string, error) {
	env := map[string]string{}
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	line := 1 // the number of the next line to read
	for len(s) > 0 {
		var l string
		var more bool
		l, s, more = strings.Cut(s, "\n")
		line++
		at := line - 1 // the line l is on
		fail := func(format string, args ...any) error {
			return &DotenvError{File: file, Line: at, Msg: fmt.Sprintf(format, args...)}
		}
		t := strings.TrimLeft(l, " \t")
		if t == "" || t[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(t, "export"); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "\t")) {
			t = strings.TrimLeft(rest, " \t")
		}
		key, val, ok := strings.Cut(t, "=")
		key = strings.TrimRight(key, " \t")
		if !ok {
			return nil, fail("%q is not KEY=VALUE", t)
		}
		if !validEnvName(key) {
			return nil, fail("%q is not a variable name: use letters, digits and '_', not starting with a digit", key)
		}
		val = strings.TrimLeft(val, " \t")
		var v string
		switch {
		case strings.HasPrefix(val, "'") || strings.HasPrefix(val, `"`):
			q := val[0]
			// A quoted value may go on over the next lines.
			text := val[1:]
			if more {
				text += "\n" + s
			}
			var b strings.Builder
			i, closed, end := 0, false, at
			for ; i < len(text); i++ {
				c := text[i]
				if c == q {
					closed = true
					break
				}
				if c == '\n' {
					end++
				}
				if q == '"' && c == '\\' && i+1 < len(text) {
					i++
					switch e := text[i]; e {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					case '"', '\\', '$':
						b.WriteByte(e)
					case '\n':
						end++
						b.WriteByte('\\')
						b.WriteByte(e)
					default:
						b.WriteByte('\\')
						b.WriteByte(e)
					}
					continue
				}
				b.WriteByte(c)
			}
			if !closed {
				return nil, fail("the value of %s has no closing %c", key, q)
			}
			v = b.String()
			after, rest, found := strings.Cut(text[i+1:], "\n")
			if a := strings.TrimSpace(after); a != "" && a[0] != '#' {
				at = end
				return nil, fail("unexpected %q after the quoted value of %s", a, key)
			}
			s, line = rest, end+1
			if !found {
				s = ""
			}
		default:
			if i := strings.Index(val, " #"); i >= 0 {
				val = val[:i]
			} else if i := strings.Index(val, "\t#"); i >= 0 {
				val = val[:i]
			}
			v = strings.TrimRight(val, " \t")
		}
		env[key] = v
	}
	return env, nil
}

// envFor builds the environment a command of scope s adds to the
// process's, before the step's own env: [env], the dotenv files, the
// task's env, each stronger than the one before.
func (s *scope) envFor() (map[string]string, error) {
	r := s.e.Registry
	env := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(r.Env)) {
		v, err := expand(r.Env[k], s.lookup)
		if err != nil {
			return nil, fmt.Errorf("[env] %s: %w", k, err)
		}
		env[k] = v
	}
	for _, list := range [][]string{r.Dotenv, s.t.Dotenv} {
		vars, err := s.e.readDotenvList(list)
		if err != nil {
			return nil, err
		}
		maps.Copy(env, vars)
	}
	for _, k := range slices.Sorted(maps.Keys(s.t.Env)) {
		v, err := expand(s.t.Env[k], s.lookup)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", k, err)
		}
		env[k] = v
	}
	maps.Copy(env, s.e.Env) // --env, over every layer
	if len(env) == 0 {
		return nil, nil
	}
	return env, nil
}

// readDotenv reads the dotenv files t needs, so that a missing required
// file or a syntax error stops the run before anything of it runs.
func (e *execution) readDotenv(t *Task) error {
	for _, list := range [][]string{e.Registry.Dotenv, t.Dotenv} {
		if _, err := e.readDotenvList(list); err != nil {
			return &TaskError{Task: t.Name, Err: err}
		}
	}
	return nil
}

// readDotenvList reads the dotenv files of list and refuses a variable
// that tasks.toml names as a secret (a sudo_password_env or a
// response_env): gotask reads those from its own environment only and
// keeps them out of every command's, and a dotenv file would hand one to
// every command.
func (e *execution) readDotenvList(list []string) (map[string]string, error) {
	vars, err := e.dotenv.read(e.Registry.Dir, list)
	if err != nil || len(vars) == 0 {
		return vars, err
	}
	e.dotenv.mu.Lock()
	if e.dotenv.secret == nil {
		e.dotenv.secret = e.Registry.secretEnv()
	}
	secret := e.dotenv.secret
	e.dotenv.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if where, ok := secret[k]; ok {
			return nil, fmt.Errorf("a dotenv file of %q sets %s, %s: gotask keeps secrets out of commands and reads them only from its own environment; export it instead", list, k, where)
		}
	}
	return vars, nil
}

// computed holds the values of one run's computed vars ([vars] name =
// { sh = "..." }): each command runs at most once per run, on first use.
type computed struct {
	mu   sync.Mutex
	vals map[string]computedVal
}

type computedVal struct {
	v   string
	err error
}

// computedVar returns the value of the computed var name, running its
// command the first time it is asked for in this run.
func (e *execution) computedVar(ctx context.Context, name string) (string, error) {
	e.vars.mu.Lock()
	defer e.vars.mu.Unlock()
	if cv, ok := e.vars.vals[name]; ok {
		return cv.v, cv.err
	}
	v, err := e.runVarCommand(ctx, name, e.Registry.ComputedVars[name])
	if e.vars.vals == nil {
		e.vars.vals = map[string]computedVal{}
	}
	e.vars.vals[name] = computedVal{v, err}
	return v, err
}

// runVarCommand runs the sh command of a computed var in the tasks.toml
// directory, with gotask's own environment, and returns its standard
// output without its trailing newlines.
func (e *execution) runVarCommand(ctx context.Context, name, line string) (string, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("var %q: running %q: %s", name, line, fmt.Sprintf(format, args...))
	}
	if e.Local == nil {
		return "", fail("no local runner")
	}
	var stderr bytes.Buffer
	res, err := e.Local.Run(ctx, &runner.Cmd{Command: line, Dir: e.Registry.Dir, Pty: runner.PtyOff,
		Capture: runner.DefaultCapture, Stderr: &stderr})
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if e.Secrets != nil {
			msg = string(e.Secrets.Redact([]byte(msg)))
		}
		if msg != "" {
			return "", fail("%v: %s", err, msg)
		}
		return "", fail("%v", err)
	}
	if res.Truncated {
		return "", fail("printed more than %d bytes; a var holds a short value", runner.DefaultCapture)
	}
	return strings.TrimRight(string(res.Stdout), "\r\n"), nil
}

// evalVars runs, before anything of the run starts, the commands of the
// computed vars that the tasks of plan, their deps, post tasks and
// called tasks use, so that a failing one stops the run with nothing
// done and the commands never run for a task that does not use them.
func (e *execution) evalVars(ctx context.Context, plan []*Task) error {
	if len(e.Registry.ComputedVars) == 0 {
		return nil
	}
	need := map[string]bool{}
	add := func(s string) {
		ns, _ := names(s) // load checked the syntax
		for _, n := range ns {
			need[n] = true
		}
	}
	seen := map[*Task]bool{}
	var visit func(t *Task)
	visit = func(t *Task) {
		if seen[t] {
			return
		}
		seen[t] = true
		if t.Func != nil {
			return // a Go task reads no {{.name}}
		}
		for _, v := range e.Registry.Env {
			add(v)
		}
		add(t.Dir)
		for _, v := range t.Env {
			add(v)
		}
		for _, list := range [][]string{t.Sources, t.Generates, t.Status} {
			for _, v := range list {
				add(v)
			}
		}
		var calls []string
		for _, st := range t.Steps {
			for _, v := range []string{st.Run, st.Local, st.Put, st.Get, st.To, st.Dir} {
				add(v)
			}
			for _, v := range st.With {
				add(v)
			}
			for _, v := range st.Env {
				add(v)
			}
			if st.Task != "" {
				calls = append(calls, st.Task)
			}
		}
		for _, names := range [][]string{t.Deps, t.Post, calls} {
			for _, n := range names {
				if u, err := e.Registry.Resolve(n); err == nil {
					visit(u)
				}
			}
		}
	}
	for _, t := range plan {
		visit(t)
	}
	for _, name := range slices.Sorted(maps.Keys(need)) {
		if _, ok := e.Registry.ComputedVars[name]; !ok {
			continue
		}
		if _, err := e.computedVar(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// fromEnv returns the value of a's DefaultEnv variable, parsed for a's
// type, and whether it is set and not empty. It is read when the
// arguments are parsed, never when tasks.toml is loaded.
func (a *Arg) fromEnv() (any, bool, error) {
	if a.DefaultEnv == "" {
		return nil, false, nil
	}
	s := os.Getenv(a.DefaultEnv)
	if s == "" {
		return nil, false, nil
	}
	v, err := a.Parse(s)
	if err != nil {
		return nil, false, fmt.Errorf("from $%s: %w", a.DefaultEnv, err)
	}
	return v, true, nil
}

// capture runs c, a step with capture = name, and keeps its standard
// output, without the trailing newlines, as {{.name}} for the later steps
// of this scope (this task, on this host). In a dry run nothing runs and
// the value is empty.
func (s *scope) capture(ctx context.Context, c *command, name string) error {
	c.capture = runner.DefaultCapture
	off := false
	c.pty = &off // stdout apart from stderr, and no \r\n
	res, err := s.exec(ctx, c)
	if err != nil {
		return err
	}
	var v string
	if res != nil {
		if res.Truncated {
			return &TaskError{Task: s.t.Name, Host: s.host, Err: fmt.Errorf("capture %s: the command printed more than %d bytes; a captured value is short", name, runner.DefaultCapture)}
		}
		v = strings.TrimRight(string(res.Stdout), "\r\n")
	}
	if s.captured == nil {
		s.captured = map[string]string{}
	}
	s.captured[name] = v
	return nil
}

// captures reports whether a step of t captures name.
func (t *Task) captures(name string) bool {
	for i := range t.Steps {
		if t.Steps[i].Capture == name {
			return true
		}
	}
	return false
}

// valuesUsed returns what of issue 16's values the task of s depends on,
// for its up-to-date fingerprint: the computed vars it uses, with their
// values this run, [env], and its dotenv files' variables. A dotenv file
// that cannot be read adds nothing here: running the task reports it.
func (s *scope) valuesUsed() (computed, topEnv, dotenv map[string]string) {
	r := s.e.Registry
	if len(r.ComputedVars) > 0 {
		used := func(v string) {
			ns, _ := names(v)
			for _, n := range ns {
				if _, ok := r.ComputedVars[n]; !ok {
					continue
				}
				if val, ok := s.lookup(n); ok {
					if computed == nil {
						computed = map[string]string{}
					}
					computed[n] = val
				}
			}
		}
		t := s.t
		fields := []string{t.Dir}
		fields = append(fields, t.Sources...)
		fields = append(fields, t.Generates...)
		fields = append(fields, t.Status...)
		fields = append(fields, slices.Collect(maps.Values(t.Env))...)
		fields = append(fields, slices.Collect(maps.Values(r.Env))...)
		for _, st := range t.Steps {
			fields = append(fields, st.Run, st.Local, st.Put, st.Get, st.To, st.Dir)
			fields = append(fields, slices.Collect(maps.Values(st.With))...)
			fields = append(fields, slices.Collect(maps.Values(st.Env))...)
		}
		for _, f := range fields {
			used(f)
		}
	}
	for _, list := range [][]string{r.Dotenv, s.t.Dotenv} {
		vars, err := s.e.readDotenvList(list)
		if err != nil || len(vars) == 0 {
			continue
		}
		if dotenv == nil {
			dotenv = map[string]string{}
		}
		maps.Copy(dotenv, vars)
	}
	return computed, r.Env, dotenv
}

// passCaptured gives a task called from a step of s each value s has
// captured whose name is an argument of the called task, unless the
// step's args give that argument.
func (s *scope) passCaptured(t *Task, given map[string]string) {
	for _, a := range t.Args {
		if _, ok := given[a.Name]; ok {
			continue
		}
		if v, ok := s.captured[a.Name]; ok {
			given[a.Name] = v
		}
	}
}
