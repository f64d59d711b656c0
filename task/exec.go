package task

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotask/gotask/internal/shell"
	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// Call is one task named on the command line, with its arguments as the
// user typed them (--pid 42 becomes Args["pid"] = "42").
type Call struct {
	Name string
	Args map[string]string
}

// Executor runs tasks: it parses their arguments, runs dependencies
// first (each at most once), then the task's steps, then its post tasks.
type Executor struct {
	// Registry holds the tasks. Required.
	Registry *Registry
	// Local runs commands on this machine. Required.
	Local runner.Runner

	// Stdin is passed to commands that run one at a time; nil means no
	// input. Stdout and Stderr receive commands' output and gotask's own
	// messages; nil discards.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Dry prints what would run and runs nothing.
	Dry bool
	// Echo prints each command before it runs.
	Echo bool
	// Warn carries on after a failing command, as if every task had
	// warn = true; the run still fails at the end.
	Warn bool
	// Quiet suppresses gotask's own messages (not the commands' output).
	Quiet bool
	// NoPty runs every command with pipes, as if pty = false everywhere.
	NoPty bool
	// Jobs bounds how many dependencies run at once. Zero means
	// runtime.GOMAXPROCS(0).
	Jobs int
	// Confirm asks the user a yes/no question for tasks with confirm.
	// Nil refuses such tasks unless AssumeYes is set.
	Confirm func(question string) (bool, error)
	// AssumeYes answers yes to every confirm question.
	AssumeYes bool

	// Connect returns the runner for a host string such as
	// "deploy@web1:22" or an ssh_config alias; for put and get steps it
	// must also be a runner.Copier. The CLI connects through a pool that
	// keeps one connection per host. Nil makes tasks with hosts an error.
	Connect func(ctx context.Context, host string) (runner.Runner, error)
	// CloseHosts, when set, is called by the CLI at the end of the run to
	// close the connections Connect opened.
	CloseHosts func()
	// Hosts, when set, replaces the hosts of the tasks named in Run (the
	// CLI's -H); their deps keep their own.
	Hosts []string
	// Only and Exclude narrow the hosts to the names matching (or not
	// matching) these path.Match patterns.
	Only, Exclude []string
	// Parallel bounds how many hosts run at once. Zero means
	// DefaultParallel; 1 runs hosts one after another.
	Parallel int
	// Output is where the output of several hosts, or of tasks running
	// at once, meets: prefixed, grouped or JSON, with colour and a
	// progress line or not. It should write to Stdout and Stderr. Nil
	// means output.New(Stdout, Stderr, output.Options{}): prefixed,
	// without colour.
	Output *output.Console

	// Force runs these tasks even when they are up to date; ForceAll
	// runs every task.
	Force    []string
	ForceAll bool

	// SudoPassword supplies the sudo password for commands with sudo, on
	// every host whose group does not name its own (sudo_password_env).
	// It is called when sudo prompts; nil means no password is known, so
	// a prompting sudo fails with a message saying how to give one.
	SudoPassword responder.PasswordFunc
	// SudoPrompt, when set, is asked once, before the first sudo command,
	// if SudoPassword has no password: the CLI sets it to a prompt with
	// echo off when stdin is a terminal.
	SudoPrompt responder.PasswordFunc
	// Secrets holds what must never be shown. Commands' captured output,
	// JSON events and the sudo password are masked with it; the CLI
	// masks the live streams with the same set. Run first adds the value
	// of each of the registry's secret variables that is set (see
	// Registry.SecretEnv). Nil means nothing is masked.
	Secrets *responder.Secrets

	once    sync.Map // task name -> *onceResult, for deps and post tasks
	sudoMu  sync.Mutex
	sudos   map[string]*responder.Sudo // per host and user: one password
	conOnce sync.Once
	con     *output.Console // Output's default
	failed  errorsSeen
}

// errorsSeen remembers failures that warn let the run carry on past.
type errorsSeen struct {
	mu   sync.Mutex
	errs []error
}

func (s *errorsSeen) add(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *errorsSeen) first() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		return nil
	}
	return s.errs[0]
}

type onceResult struct {
	done chan struct{}
	err  error
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

// Run runs the calls in order. Every call's task and arguments are
// checked before anything runs, so a typo in the third call does not
// leave the first half done.
func (e *Executor) Run(ctx context.Context, calls ...Call) error {
	type resolved struct {
		t    *Task
		args map[string]any
	}
	if err := e.addSecrets(); err != nil {
		return err
	}
	var plan []resolved
	for _, c := range calls {
		t, err := e.Registry.Resolve(c.Name)
		if err != nil {
			return err
		}
		args, err := t.ParseArgs(c.Args)
		if err != nil {
			return err
		}
		plan = append(plan, resolved{t, args})
	}
	for _, p := range plan {
		if err := e.checkCommands(p.t, p.args); err != nil {
			return err
		}
	}
	for _, p := range plan {
		if err := e.runTaskOn(ctx, p.t, p.args, e.Hosts); err != nil {
			return err
		}
	}
	return e.failed.first()
}

// ParseArgs turns command-line strings into typed values, filling in
// defaults and checking required arguments. Unknown names are errors.
func (t *Task) ParseArgs(given map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(t.Args))
	for name, s := range given {
		a := t.arg(name)
		if a == nil {
			msg := fmt.Errorf("unknown argument --%s", name)
			var names []string
			for _, a := range t.Args {
				names = append(names, a.Name)
			}
			if s := closest(name, names); s != "" {
				msg = fmt.Errorf("unknown argument --%s; did you mean --%s?", name, s)
			} else if len(names) == 0 {
				msg = fmt.Errorf("unknown argument --%s: the task takes no arguments", name)
			}
			return nil, &ArgError{Task: t.Name, Err: msg}
		}
		v, err := a.Parse(s)
		if err != nil {
			return nil, &ArgError{Task: t.Name, Arg: a.Name, Err: err}
		}
		out[a.Name] = v // given by its short name or its own
	}
	for i := range t.Args {
		a := &t.Args[i]
		if _, ok := out[a.Name]; ok {
			continue
		}
		if a.Required {
			return nil, &ArgError{Task: t.Name, Arg: a.Name, Err: errors.New("required; give it as --" + a.Name + " VALUE")}
		}
		v, err := a.defaultValue()
		if err != nil {
			return nil, &ArgError{Task: t.Name, Arg: a.Name, Err: err}
		}
		out[a.Name] = v
	}
	return out, nil
}

func (t *Task) arg(name string) *Arg {
	for i := range t.Args {
		if t.Args[i].Name == name || t.Args[i].Short == name {
			return &t.Args[i]
		}
	}
	return nil
}

// runTask runs t's deps, t itself and its post tasks.
func (e *Executor) runTask(ctx context.Context, t *Task, args map[string]any) error {
	return e.runTaskOn(ctx, t, args, nil)
}

// runTaskOn is runTask with the task's hosts replaced by hosts, if any.
func (e *Executor) runTaskOn(ctx context.Context, t *Task, args map[string]any, hosts []string) error {
	targets, err := e.targets(t, hosts)
	if err != nil {
		return err
	}
	if err := e.runOnce(ctx, t.Deps); err != nil {
		return err
	}
	if err := e.body(ctx, t, args, targets); err != nil {
		return err
	}
	return e.runOnce(ctx, t.Post)
}

// runOnce runs the named tasks, with their default arguments, each at
// most once per Executor; several of them run at the same time, bounded
// by Jobs.
func (e *Executor) runOnce(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	if len(names) == 1 {
		return e.runDep(ctx, names[0], false)
	}
	jobs := e.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, jobs)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = e.runDep(ctx, name, true)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *Executor) runDep(ctx context.Context, name string, concurrent bool) error {
	t, err := e.Registry.Resolve(name)
	if err != nil {
		return err
	}
	fresh := &onceResult{done: make(chan struct{})}
	v, loaded := e.once.LoadOrStore(t.Name, fresh)
	r := v.(*onceResult)
	if loaded {
		select {
		case <-r.done:
			return r.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(r.done)
	args, err := t.ParseArgs(nil)
	if err != nil {
		r.err = err
		return err
	}
	if concurrent {
		ctx = withConcurrent(ctx)
	}
	r.err = e.runTask(ctx, t, args)
	return r.err
}

type concurrentKey struct{}

// withConcurrent marks ctx as running beside other tasks: such commands
// get no stdin and no terminal, and their output is written whole lines
// at a time.
func withConcurrent(ctx context.Context) context.Context {
	return context.WithValue(ctx, concurrentKey{}, true)
}

func isConcurrent(ctx context.Context) bool {
	v, _ := ctx.Value(concurrentKey{}).(bool)
	return v
}

// body runs the task's own steps or Go function.
func (e *Executor) body(ctx context.Context, t *Task, args map[string]any, targets []target) error {
	if t.Confirm != "" && !e.Dry {
		ok, err := e.confirm(t)
		if err != nil {
			return &TaskError{Task: t.Name, Err: err}
		}
		if !ok {
			return &TaskError{Task: t.Name, Err: errors.New("not confirmed; nothing was run")}
		}
	}
	s := e.newScope(ctx, t, args, "", e.Local)
	defer s.close()
	var check *UpToDate
	var err error
	forced := e.ForceAll || slices.Contains(e.Force, t.Name)
	if t.skippable() {
		// A forced task is checked too (its status commands aside), so
		// that its success is recorded like any other.
		if check, err = e.upToDate(ctx, s, forced); err != nil {
			return err
		}
		if check.UpToDate && !forced {
			if !e.Quiet || e.Dry {
				fmt.Fprintf(s.stderr, "gotask: task %s is up to date\n", t.Name)
			}
			return nil
		}
		if e.Dry {
			fmt.Fprintf(s.stdout, "# %s would run: %s\n", t.Name, strings.Join(check.Reasons, "; "))
		}
	}
	if !e.Dry {
		// From here the old record no longer says what is on disk.
		if err := check.forget(); err != nil {
			return &TaskError{Task: t.Name, Err: err}
		}
	}
	if len(targets) > 0 {
		err = e.fanOut(ctx, t, args, targets)
	} else {
		err = s.runBody(ctx)
	}
	if err != nil {
		return err
	}
	if e.Dry || e.failed.first() != nil {
		return nil // -w let a failure pass: the work is not done
	}
	if err := check.record(ctx); err != nil {
		return &TaskError{Task: t.Name, Err: fmt.Errorf("record that it is up to date: %w", err)}
	}
	return nil
}

func (e *Executor) confirm(t *Task) (bool, error) {
	if e.AssumeYes {
		return true, nil
	}
	if e.Confirm == nil {
		return false, fmt.Errorf("asks %q and there is no terminal to answer; pass --yes to run it anyway", t.Confirm)
	}
	return e.Confirm(t.Confirm)
}

// scope is one task running in one place (this machine or a host), with
// its arguments resolved.
type scope struct {
	e       *Executor
	t       *Task
	args    map[string]any
	host    string
	run     runner.Runner
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	flush   []func()
	index   int    // which of the task's hosts this is: once steps run on 0
	multi   bool   // one of several hosts: its output carries the host already
	current string // the step running now, for the summary
}

func (e *Executor) newScope(ctx context.Context, t *Task, args map[string]any, host string, r runner.Runner) *scope {
	s := &scope{e: e, t: t, args: args, host: host, run: r, stdin: e.Stdin,
		stdout: orDiscard(e.Stdout), stderr: orDiscard(e.Stderr)}
	if isConcurrent(ctx) {
		s.stdin = nil
		con := e.console()
		out, err := con.Lines(s.stdout), con.Lines(s.stderr)
		s.stdout, s.stderr = out, err
		s.flush = append(s.flush, out.Flush, err.Flush)
	}
	return s
}

func (s *scope) close() {
	for _, f := range s.flush {
		f()
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// lookup resolves {{.name}}: arguments first, then vars, then built-ins.
func (s *scope) lookup(name string) (string, bool) {
	if v, ok := s.args[name]; ok {
		return formatValue(v), true
	}
	if v, ok := s.e.Registry.Vars[name]; ok {
		return v, true
	}
	if name == "host" {
		return s.host, true
	}
	return "", false
}

func (s *scope) runBody(ctx context.Context) error {
	if s.t.Func != nil {
		if s.e.Dry {
			s.note("# %s: Go task; would run its function\n", s.t.Name)
			return nil
		}
		if err := s.t.Func(ctx, &Context{s: s}); err != nil {
			var te *TaskError
			if errors.As(err, &te) {
				return err
			}
			return &TaskError{Task: s.t.Name, Host: s.host, Err: err}
		}
		return nil
	}
	if s.e.Dry {
		s.note("# %s\n", s.t.Name)
	}
	for i := range s.t.Steps {
		if err := s.step(ctx, &s.t.Steps[i]); err != nil {
			return err
		}
	}
	return nil
}

// note prints one of gotask's own messages unless Quiet.
func (s *scope) note(format string, args ...any) {
	if !s.e.Quiet || s.e.Dry {
		fmt.Fprintf(s.stdout, format, args...)
	}
}

func (s *scope) step(ctx context.Context, st *Step) error {
	if st.Once && s.index > 0 {
		return nil
	}
	s.current = describeStep(st)
	switch {
	case st.Task != "":
		return s.callTask(ctx, st)
	case st.Put != "" || st.Get != "":
		return s.transfer(ctx, st)
	}
	line, local := st.Run, false
	if st.Local != "" {
		line, local = st.Local, true
	}
	c, err := s.command(line, st.pos, st)
	if err != nil {
		return &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	s.current = firstLine(c.line)
	if local {
		s.current = "local " + s.current
	}
	c.local = local
	_, err = s.exec(ctx, c)
	return err
}

func (s *scope) callTask(ctx context.Context, st *Step) error {
	t, err := s.e.Registry.Resolve(st.Task)
	if err != nil {
		return err
	}
	given := make(map[string]string, len(st.With))
	for k, v := range st.With {
		if given[k], err = expand(v, s.lookup); err != nil {
			return &TaskError{Task: s.t.Name, Err: err}
		}
	}
	args, err := t.ParseArgs(given)
	if err != nil {
		return err
	}
	return s.e.runTask(ctx, t, args)
}

func (s *scope) transfer(ctx context.Context, st *Step) error {
	var mode uint64
	if st.Mode != "" {
		mode, _ = strconv.ParseUint(st.Mode, 8, 32) // checked at load time
	}
	src, dst := st.Put, st.To
	if st.Get != "" {
		src = st.Get
	}
	var err error
	if src, err = expand(src, s.lookup); err == nil {
		dst, err = expand(dst, s.lookup)
	}
	if st.Put != "" {
		s.current = "put " + src
	} else {
		s.current = "get " + src
	}
	if err != nil {
		return &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	sudo := s.t.Sudo
	if st.Sudo != "" || st.NoSudo {
		sudo = st.Sudo
	}
	_, err = s.copy(ctx, st.Put != "", src, dst, uint32(mode), sudo)
	return err
}

// copy uploads (put) or downloads through the scope's runner.
func (s *scope) copy(ctx context.Context, put bool, src, dst string, mode uint32, sudo string) (*runner.CopyResult, error) {
	verb := "get"
	if put {
		verb = "put"
	}
	if s.e.Dry {
		fmt.Fprintf(s.stdout, "%s %s %s\n", verb, src, dst)
		return &runner.CopyResult{}, nil
	}
	cp, ok := s.run.(runner.Copier)
	if !ok || s.host == "" {
		return nil, &TaskError{Task: s.t.Name, Err: errNoCopier}
	}
	if put && !filepath.IsAbs(src) {
		src = filepath.Join(s.e.Registry.Dir, src)
	}
	if !put && !filepath.IsAbs(dst) {
		dst = filepath.Join(s.e.Registry.Dir, dst)
	}
	if sudo != "" {
		return s.sudoCopy(ctx, put, src, dst, mode, sudo)
	}
	opts := &runner.CopyOptions{Mode: fs.FileMode(mode)}
	var res *runner.CopyResult
	var err error
	if put {
		res, err = cp.Put(ctx, src, dst, opts)
	} else {
		res, err = cp.Get(ctx, src, dst, opts)
	}
	if err != nil {
		return res, &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	return res, nil
}

// describeStep names a step for the multi-host summary.
func describeStep(st *Step) string {
	switch {
	case st.Task != "":
		return "task " + st.Task
	case st.Put != "":
		return "put " + st.Put
	case st.Get != "":
		return "get " + st.Get
	case st.Local != "":
		return "local " + firstLine(st.Local)
	}
	return firstLine(st.Run)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// command is one shell command with every option resolved.
type command struct {
	line    string
	local   bool
	dir     string // the task's dir joined with the step's
	stepDir string // the step's own dir
	env     map[string]string
	pty     *bool
	warn    bool
	timeout time.Duration
	sudo    string
	retries int
	hide    bool
	stdin   io.Reader
	watch   []Responder
	extra   []responder.Watcher
	capture int // runner.Cmd.Capture: zero (a short tail) unless a caller reads the output
}

// command builds a command from a step of the scope's task, with the
// step's settings overriding the task's. The placeholders of line, which
// was declared at at, are rendered for their shell contexts.
func (s *scope) command(line string, at pos, st *Step) (*command, error) {
	t := s.t
	tmpl, err := s.e.Registry.shellTemplate(t, at, line)
	if err != nil {
		return nil, err
	}
	expanded, err := tmpl.render(s.lookup)
	if err != nil {
		return nil, err
	}
	c := &command{line: expanded, pty: t.Pty, warn: t.Warn, sudo: t.Sudo, retries: t.Retries,
		stdin: s.stdin, watch: t.Responders}
	c.timeout = t.Timeout
	c.env = maps.Clone(t.Env)
	if c.dir, err = expand(t.Dir, s.lookup); err != nil {
		return nil, err
	}
	if st == nil {
		return c, s.expandEnv(c)
	}
	if st.Dir != "" {
		d, err := expand(st.Dir, s.lookup)
		if err != nil {
			return nil, err
		}
		c.dir, c.stepDir = joinDir(c.dir, d), d
	}
	for k, v := range st.Env {
		if c.env == nil {
			c.env = map[string]string{}
		}
		c.env[k] = v
	}
	if st.Pty != nil {
		c.pty = st.Pty
	}
	c.warn = c.warn || st.Warn
	if st.Timeout > 0 {
		c.timeout = st.Timeout
	}
	if st.Retries != nil {
		c.retries = *st.Retries
	}
	switch {
	case st.NoSudo:
		c.sudo = ""
	case st.Sudo != "":
		c.sudo = st.Sudo
	}
	c.watch = append(slices.Clip(c.watch), st.Responders...)
	return c, s.expandEnv(c)
}

func (s *scope) expandEnv(c *command) error {
	for k, v := range c.env {
		x, err := expand(v, s.lookup)
		if err != nil {
			return fmt.Errorf("env %s: %w", k, err)
		}
		c.env[k] = x
	}
	return nil
}

func joinDir(base, d string) string {
	if base == "" || filepath.IsAbs(d) || strings.HasPrefix(d, "~") {
		return d
	}
	return filepath.Join(base, d)
}

// exec runs one command with echo, dry-run, retries and warn applied.
func (s *scope) exec(ctx context.Context, c *command) (*runner.Result, error) {
	if s.e.Dry {
		fmt.Fprintf(s.stdout, "%s\n", s.display(c))
		return &runner.Result{Host: s.host}, nil
	}
	if s.e.Echo {
		fmt.Fprintf(s.stderr, "%s\n", s.display(c))
	}
	cmd, err := s.runnerCmd(ctx, c)
	var sudo *responder.Sudo
	if err == nil && c.sudo != "" {
		sudo, err = s.e.sudoFor(ctx, s.host, c.sudo)
	}
	if err != nil {
		return nil, &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	r := s.run
	if c.local {
		r = s.e.Local
	}
	var res *runner.Result
	for attempt := 0; ; attempt++ {
		if sudo == nil {
			res, err = r.Run(ctx, cmd)
		} else {
			res, err = runSudo(ctx, r, cmd, sudo, s.host != "" && !c.local)
		}
		var ee *runner.ExitError
		if err == nil || attempt >= c.retries || ctx.Err() != nil || !errors.As(err, &ee) {
			break
		}
		if !s.e.Quiet {
			fmt.Fprintf(s.stderr, "gotask: task %q: %v; retrying (%d of %d)\n", s.t.Name, err, attempt+1, c.retries)
		}
	}
	if res != nil && s.e.Secrets != nil {
		res.Stdout, res.Stderr = s.e.Secrets.Redact(res.Stdout), s.e.Secrets.Redact(res.Stderr)
	}
	if err == nil {
		return res, nil
	}
	err = &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	if (c.warn || s.e.Warn) && ctx.Err() == nil {
		if !s.e.Quiet && !(c.warn && c.hide) { // Warn()+Hide(): the Go task handles it
			fmt.Fprintf(s.stderr, "gotask: warning: %v (continuing)\n", err)
		}
		if !c.warn {
			s.e.failed.add(err) // -w: carry on, but the run still fails
		}
		return res, nil
	}
	return res, err
}

// display is how a command is shown by echo and dry runs.
func (s *scope) display(c *command) string {
	prefix := "$ "
	if c.sudo != "" {
		prefix = "$ [sudo] "
		if c.sudo != "root" {
			prefix = "$ [sudo -u " + c.sudo + "] "
		}
	}
	if s.host != "" && !c.local && !s.multi {
		prefix = "[" + s.host + "] " + prefix
	}
	return prefix + c.line
}

// runnerCmd turns a command into what a runner takes.
func (s *scope) runnerCmd(ctx context.Context, c *command) (*runner.Cmd, error) {
	cmd := &runner.Cmd{
		Command: c.line,
		Stdin:   c.stdin,
		Stdout:  s.stdout,
		Stderr:  s.stderr,
		Pty:     ptyMode(c.pty),
		Timeout: c.timeout,
		Capture: c.capture,
	}
	if s.e.NoPty {
		cmd.Pty = runner.PtyOff
	}
	if c.hide {
		cmd.Stdout = nil
		if cmd.Pty == runner.PtyAuto {
			cmd.Pty = runner.PtyOff // keep stderr apart, so it can still show
		}
	}
	switch {
	case s.host == "":
		cmd.Dir = joinDir(s.e.Registry.Dir, c.dir)
	case c.local:
		// A remote task's dir is a path on the host: a local step runs
		// beside tasks.toml, or in its own dir.
		cmd.Dir = joinDir(s.e.Registry.Dir, c.stepDir)
	default:
		cmd.Dir = c.dir
	}
	keys := slices.Sorted(maps.Keys(c.env))
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+c.env[k])
	}
	if s.host != "" {
		cmd.Env = append(cmd.Env, "GOTASK_HOST="+s.host)
	}
	for _, r := range c.watch {
		w, err := newResponder(r, s.e.Secrets)
		if err != nil {
			return nil, err
		}
		cmd.Watchers = append(cmd.Watchers, w)
	}
	cmd.Watchers = append(cmd.Watchers, c.extra...)
	return cmd, nil
}

// runSudo runs cmd through sudo with r: a fresh SudoCommand for each
// run answers sudo's prompt, keeps the exchange with sudo off the user's
// screen and out of the Result, and holds the command's input back until
// sudo is done asking, so that input (type-ahead on a terminal, a pipe)
// cannot be taken for the password. sudo resets the environment, so the
// command's variables are set inside the sudo shell instead; the working
// directory carries over as sudo keeps it. Over SSH (remote), the login
// shell runs the command line; the wrapper needs a POSIX one.
func runSudo(ctx context.Context, r runner.Runner, cmd *runner.Cmd, sudo *responder.Sudo, remote bool) (*runner.Result, error) {
	line := cmd.Command
	if len(cmd.Env) > 0 {
		line = "export " + shell.Join(cmd.Env) + "; " + line
	}
	sc := sudo.Command(ctx, line)
	run := *cmd
	run.Command, run.Env = sc.Line, nil
	if remote {
		run.Command = "exec sh -c " + shell.Quote(sc.Line)
	}
	if len(run.Command) > maxCommandLine {
		// The rendered command fitted (render checks that), but sudo's
		// wrapper quotes it again.
		return nil, fmt.Errorf("the command is %d bytes once wrapped for sudo, more than the %d a command line can carry; pass large values in a file or on stdin", len(run.Command), maxCommandLine)
	}
	out, errOut := sc.Hide(cmd.Stdout), sc.Hide(cmd.Stderr)
	run.Stdout, run.Stderr = out, errOut
	run.Watchers = append(slices.Clip(cmd.Watchers), sc)
	run.HoldInput = sc.Started()
	res, err := r.Run(ctx, &run)
	out.Close()
	errOut.Close()
	if res != nil {
		res.Stdout, res.Stderr = sc.Clean(res.Stdout), sc.Clean(res.Stderr)
	}
	return res, err
}

// sudoFor returns the Sudo for host and user, making it on first use:
// one password lookup for all of the run's commands there.
func (e *Executor) sudoFor(ctx context.Context, host, user string) (*responder.Sudo, error) {
	e.sudoMu.Lock()
	defer e.sudoMu.Unlock()
	key := host + "\x00" + user
	if s, ok := e.sudos[key]; ok {
		return s, nil
	}
	source := e.SudoPassword
	if source != nil {
		source = responder.First(source, noSudoPassword) // say how to give one
	}
	if g := e.Registry.groupOf(host); g != nil && g.SudoPasswordEnv != "" {
		source = responder.FromEnv(g.SudoPasswordEnv)
	}
	if source == nil {
		source = noSudoPassword
	}
	if e.SudoPrompt != nil {
		if _, err := source(ctx); errors.Is(err, responder.ErrNoPassword) {
			// Ask now: once the command runs, the terminal is in raw
			// mode and what is typed goes to the command.
			pw, err := e.SudoPrompt(ctx)
			if err != nil {
				return nil, err
			}
			if e.Secrets != nil {
				e.Secrets.Add(pw)
			}
			source = func(context.Context) (string, error) { return pw, nil }
		}
	}
	if user == "root" {
		user = ""
	}
	// No Host or Task: this Sudo serves every task on the host, and the
	// executor's TaskError names both.
	s := &responder.Sudo{User: user, Password: responder.Once(source), Secrets: e.Secrets}
	if e.sudos == nil {
		e.sudos = map[string]*responder.Sudo{}
	}
	e.sudos[key] = s
	return s, nil
}

func noSudoPassword(context.Context) (string, error) {
	return "", fmt.Errorf("%w: set GOTASK_SUDO_PASSWORD, pass --sudo-password-cmd CMD, or --prompt-for-sudo-password", responder.ErrNoPassword)
}

// newResponder builds the watcher for a tasks.toml responder. A
// response_env variable is read now, when the command runs, so that a
// missing secret fails this command rather than the whole load.
func newResponder(r Responder, secrets *responder.Secrets) (responder.Watcher, error) {
	re, err := regexp.Compile(r.Pattern)
	if err != nil {
		return nil, fmt.Errorf("responder pattern %q: %w", r.Pattern, err)
	}
	answer := r.Response
	if r.ResponseEnv != "" {
		v, ok := os.LookupEnv(r.ResponseEnv)
		if !ok {
			return nil, fmt.Errorf("responder for %q answers with $%s, which is not set; export it before running gotask", r.Pattern, r.ResponseEnv)
		}
		v = strings.TrimSuffix(v, "\n")
		if secrets != nil {
			if err := secrets.Add(v); err != nil {
				return nil, fmt.Errorf("responder for %q answers with $%s: %w", r.Pattern, r.ResponseEnv, err)
			}
		}
		answer = v + "\n" // typed at a prompt, an answer ends with Enter
	}
	return &responder.Responder{Pattern: re, Response: answer}, nil
}

// checkPattern validates a responder's regular expression at load time.
func checkPattern(p string) error {
	if p == "" {
		return errors.New("empty pattern")
	}
	_, err := regexp.Compile(p)
	return err
}
