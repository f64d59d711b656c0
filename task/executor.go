package task

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// Call is one task named on the command line, with its arguments as the
// user typed them (--pid 42 becomes Args["pid"] = "42").
type Call struct {
	Name string
	Args map[string]string
	// Positional are the bare words after the task name, for its
	// positional arguments (see Arg.Positional). Nil means none.
	Positional []string
	// Passthrough are the words after `--` on the command line, the
	// task's {{.ARGS}}: each stands as its own quoted word. Nil means none.
	Passthrough []string
}

// Executor runs tasks: it parses their arguments, runs dependencies
// first (each at most once per Run), then the task's steps, then its
// post tasks. It holds configuration only: each Run starts afresh (deps,
// warned failures and sudo passwords are the run's own), so one Executor
// may Run again.
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

	// Remote reaches the hosts of tasks with hosts; nil makes such tasks
	// an error. The Executor only connects: whoever makes Remote closes
	// its connections when the runs that use it are done (the CLI's
	// keeps one connection per host until the command ends).
	Remote Connector
	// Hosts, when set, replaces the hosts of the tasks named in Run (the
	// CLI's -H); their deps keep their own.
	Hosts []string
	// Only and Exclude narrow the hosts to the names matching (or not
	// matching) these path.Match patterns.
	Only, Exclude []string
	// Resume leaves out the hosts where the task's last run ended ok with
	// the same definition and argument values, as recorded in
	// .gotask/hosts; RetryFailed leaves out those where it ended ok,
	// whatever changed since. Either says which hosts it leaves out.
	Resume, RetryFailed bool
	// Parallel bounds how many hosts run at once. Zero means
	// DefaultParallel; 1 runs hosts one after another.
	Parallel int
	// Output is where the output of several hosts, or of tasks running
	// at once, meets: prefixed, grouped or JSON, with colour and a
	// progress line or not. It should write to Stdout and Stderr. Nil
	// means output.New(Stdout, Stderr, output.Options{}): prefixed,
	// without colour.
	Output *output.Console

	// NoWait makes a task whose lock (Task.Lock) is held by another
	// process fail at once with a *LockHeldError naming the holder,
	// instead of waiting for it.
	NoWait bool

	// Force runs these tasks even when they are up to date; ForceAll
	// runs every task.
	Force    []string
	ForceAll bool

	// SudoPassword supplies the sudo password for commands with sudo, on
	// every host whose group does not name its own (sudo_password_env).
	// It is called when sudo prompts; nil means no password is known, so
	// a prompting sudo fails with a message saying how to give one.
	SudoPassword responder.PasswordFunc

	// Env holds environment variables set on the command line (gotask
	// --env K=V): over every other layer ([env], dotenv files, a task's
	// and a step's env). Nil sets none.
	Env map[string]string
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

	sleep func(context.Context, time.Duration) error // waits between retries; nil: a timer (tests set it)
}

// execution is one call of Executor.Run (or Status): what a run
// remembers lives here, not in the Executor, so that an Executor can run
// again and start afresh.
type execution struct {
	*Executor
	once   sync.Map                   // task name -> *onceResult, for deps and post tasks
	sudoMu sync.Mutex                 // guards sudos
	sudos  map[string]*responder.Sudo // per host and user: one password
	con    *output.Console            // Output, or its default for this run
	failed errorsSeen                 // failures that -w let the run carry on past
	dotenv dotenvs                    // the dotenv files read so far
	vars   computed                   // the computed vars evaluated so far
	ctx    context.Context            // the run's: a computed var first used by a command runs in it

	preChecked sync.Map // *Task -> true: its preconditions passed before the run

	commands CommandRunner // runs every command instead of the runners: see NewJob
}

// newExecution starts a run of e.
func (e *Executor) newExecution() *execution {
	x := &execution{Executor: e, con: e.Output}
	if x.con == nil {
		var opts output.Options
		if e.Secrets != nil {
			opts.Redact = e.Secrets.Redact
		}
		x.con = output.New(e.Stdout, e.Stderr, opts)
	}
	return x
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
	var tasks []*Task
	for _, c := range calls {
		t, err := e.Registry.Resolve(c.Name)
		if err != nil {
			return err
		}
		args, err := t.ParseCall(c)
		if err != nil {
			return err
		}
		plan = append(plan, resolved{t, args})
		tasks = append(tasks, t)
	}
	x := e.newExecution()
	x.ctx = ctx
	if err := x.evalVars(ctx, tasks); err != nil {
		return err
	}
	for _, p := range plan {
		if err := x.checkCommands(p.t, p.args); err != nil {
			return err
		}
	}
	if err := x.checkForwardHosts(tasks); err != nil {
		return err
	}
	for _, p := range plan {
		if err := x.readDotenv(p.t); err != nil {
			return err
		}
	}
	args := make([]map[string]any, len(plan))
	for i, p := range plan {
		args[i] = p.args
	}
	if err := x.checkPreconditions(ctx, tasks, args); err != nil {
		return err
	}
	for _, p := range plan {
		if err := x.runTaskOn(ctx, p.t, p.args, e.Hosts); err != nil {
			return err
		}
	}
	return x.failed.first()
}

// body runs the task's own steps or Go function.
func (e *execution) body(ctx context.Context, t *Task, args map[string]any, targets []target) error {
	s := e.newScope(ctx, t, args, "", e.Local)
	defer s.close()
	var check *UpToDate
	var err error
	if len(targets) == 0 {
		// The lock covers the up-to-date check too: a second deploy that
		// waited finds the first one's work done.
		var unlock func()
		if ctx, unlock, err = e.lockLocal(ctx, t, s.stderr); err != nil {
			return err
		}
		defer unlock()
	}
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
		err = e.fanOut(ctx, t, args, targets, s.definition())
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

// askConfirm asks t's confirm question, if it has one, before its deps
// run: a deploy does not build before the user says yes. A dry run asks
// nothing.
func (e *execution) askConfirm(t *Task) error {
	if t.Confirm == "" || e.Dry {
		return nil
	}
	ok, err := e.confirm(t)
	if err != nil {
		return &TaskError{Task: t.Name, Err: err}
	}
	if !ok {
		return &TaskError{Task: t.Name, Err: errors.New("not confirmed; nothing was run")}
	}
	return nil
}

func (e *execution) confirm(t *Task) (bool, error) {
	if e.AssumeYes {
		return true, nil
	}
	if e.Confirm == nil {
		return false, fmt.Errorf("asks %q and %w", t.Confirm, ErrNoAnswer)
	}
	return e.Confirm(t.Confirm)
}

// scope is one task running in one place (this machine or a host), with
// its arguments resolved.
type scope struct {
	e       *execution
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
	item    string // {{.item}}, while looping holds
	looping bool   // running one item of a step with for

	captured map[string]string // by the capture steps run so far
	hostDir  bool              // the task's dir is a path on its hosts: conditions run here ignore it
}

func (e *execution) newScope(ctx context.Context, t *Task, args map[string]any, host string, r runner.Runner) *scope {
	s := &scope{e: e, t: t, args: args, host: host, run: r, stdin: e.Stdin,
		stdout: orDiscard(e.Stdout), stderr: orDiscard(e.Stderr)}
	if isConcurrent(ctx) {
		s.stdin = nil
		con := e.console()
		out, err := con.Lines(s.stdout), con.Lines(s.stderr)
		s.stdout, s.stderr = out, err
		s.flush = append(s.flush, out.Flush, err.Flush)
	}
	if lo, ok := ctx.Value(loopOutputKey{}).(loopOutput); ok {
		// Called by an item of a parallel loop: its lines carry the
		// item's prefix.
		s.stdin, s.stdout, s.stderr, s.flush = nil, lo.stdout, lo.stderr, nil
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

// lookup resolves {{.name}}: arguments first, then captured values, the
// host's vars (host_vars, then its groups'), vars, then built-ins.
func (s *scope) lookup(name string) (string, bool) {
	if s.looping && name == "item" {
		return s.item, true
	}
	if v, ok := s.args[name]; ok {
		return formatValue(v), true
	}
	if v, ok := s.captured[name]; ok {
		return v, true
	}
	if v, ok := s.e.Registry.hostVar(s.host, name); ok {
		return v, true
	}
	if v, ok := s.e.Registry.Vars[name]; ok {
		return v, true
	}
	if _, ok := s.e.Registry.ComputedVars[name]; ok {
		ctx := s.e.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		v, err := s.e.computedVar(ctx, name)
		return v, err == nil
	}
	if name == "host" {
		return s.host, true
	}
	if name == PassthroughName {
		return "", true // no words after `--`
	}
	return "", false
}

// words resolves a {{.name}} whose value is a list of words, such as
// {{.ARGS}}.
func (s *scope) words(name string) ([]string, bool) {
	return argWords(s.args, s.e.Registry.Vars, name)
}

// argWords returns the list of words that args hold under name. ARGS is
// a list, empty unless Call.Passthrough filled it, unless a var takes
// the name (lookup then finds the var).
func argWords(args map[string]any, vars map[string]string, name string) ([]string, bool) {
	if v, ok := args[name].([]string); ok {
		return v, true
	}
	_, isVar := vars[name]
	return nil, name == PassthroughName && !isVar
}

// note prints one of gotask's own messages unless Quiet.
func (s *scope) note(format string, args ...any) {
	if !s.e.Quiet || s.e.Dry {
		fmt.Fprintf(s.stdout, format, args...)
	}
}
