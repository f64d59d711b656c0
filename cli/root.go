package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner/local"
	"github.com/gotask/gotask/task"
)

// Option configures Main.
type Option func(*config)

type config struct {
	registry *task.Registry
	version  string
	// goTasksLeftOut: there are Go tasks, but no toolchain to build them.
	goTasksLeftOut bool
	// goTasks is the binary of the Go tasks that registry describes, to
	// hand over to before anything runs; nil for none.
	goTasks *goTasks
	// pending: there are Go tasks, not built yet, to build when a task
	// needs them; goTasksLeftOut is then true.
	pending *pendingGoTasks
	// helpErr is what `gotask --help TASK` could not show: Main reports
	// it and exits non-zero, as cobra's help returns no error.
	helpErr error
}

// WithRegistry makes Main use reg, with the tasks a Go program defined,
// instead of an empty one; a tasks.toml, if found, is loaded into it too.
func WithRegistry(reg *task.Registry) Option {
	return func(c *config) { c.registry = reg }
}

// WithVersion sets what --version prints.
func WithVersion(v string) Option { return func(c *config) { c.version = v } }

// Main runs the gotask command line with args (without the program name)
// and returns the process exit code. It never calls os.Exit and touches no
// stream but those in streams. While it runs commands it handles Ctrl-C
// and SIGTERM itself: the first stops the commands cleanly and Main
// returns ExitInterrupted, a second ends the program at once.
//
// On Linux, Main first makes the whole process not dumpable
// (prctl PR_SET_DUMPABLE 0), since it may hold secrets: no core dump, and
// no other process of the same user can ptrace it or read its memory or
// environment.
func Main(ctx context.Context, args []string, streams *Streams, opts ...Option) int {
	// gotask may hold a secret at any moment (a password in its
	// environment, from a command or a prompt): let no other process of
	// the user read it out of this one. Failing that is not fatal.
	_ = undumpable()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.registry == nil {
		// Plain gotask: Go tasks in gotasks/ run in a binary of their own.
		if handled, err := runGoTasks(ctx, args, streams, &cfg); handled {
			fmt.Fprintf(streams.ErrOut, "%s %v\n", streams.errPaint(output.Red+output.Bold, "gotask:"), err)
			return ExitCode(err)
		}
	} else {
		applyFuncDocs(cfg.registry)
		if path := os.Getenv(describeEnv); path != "" {
			// Plain gotask asks this binary of Go tasks what its tasks are.
			if err := describe(cfg.registry, args, path); err != nil {
				fmt.Fprintf(streams.ErrOut, "gotask: describing the Go tasks: %v\n", err)
				return ExitFailure
			}
			return ExitOK
		}
	}
	cmd := NewCmdRoot(streams, &cfg, nil)
	if completionCalled(args) {
		// Only then: with a subcommand, cobra would add its help command
		// and offer both as if they were tasks.
		cmd.AddCommand(newCmdCompletion(streams))
	}
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		err = cfg.helpErr
	}
	var quiet *exitStatus
	if err != nil && !errors.As(err, &quiet) {
		fmt.Fprintf(streams.ErrOut, "%s %v\n", streams.errPaint(output.Red+output.Bold, "gotask:"), err)
	}
	return ExitCode(err)
}

// RootOptions holds the global flags.
type RootOptions struct {
	Streams *Streams

	File    string
	List    bool
	JSON    bool
	Dry     bool
	Echo    bool
	Warn    bool
	NoPty   bool
	Quiet   bool
	Yes     bool
	Version bool
	Init    bool
	Help    bool

	Force    bool
	ForceAll bool
	Status   bool

	SudoPasswordCmd       string
	PromptForSudoPassword bool

	Hosts                  []string
	Parallel               int
	Only, Exclude          []string
	Output                 string
	SSHConfig              string
	Identities             []string
	AcceptNewHostKeys      bool
	PromptForLoginPassword bool

	Args []string // tasks and their flags, as given

	cfg    *config
	loaded *task.Registry // by loadRegistry, which loads only once
	// global holds gotask's own flags, which are also taken after a task
	// name where the task has no flag of that name.
	global *pflag.FlagSet
}

// NewCmdRoot builds the root command. runF, when set, replaces the
// default action, so that tests can check flag parsing apart from side
// effects.
func NewCmdRoot(streams *Streams, cfg *config, runF func(*RootOptions) error) *cobra.Command {
	opts := &RootOptions{Streams: streams, cfg: cfg}
	cmd := &cobra.Command{
		Use:   "gotask [flags] [TASK [--arg value]...]...",
		Short: "Run the tasks of tasks.toml, here or over SSH",
		Long: `gotask runs the tasks declared in tasks.toml (found in the current directory
or the nearest parent) or in Go code. Name one or more tasks, each followed by
its own arguments:

  gotask -l                           list the tasks
  gotask mytime                       run a task
  gotask renice --pid 4242 --nice 10  run a task with arguments
  gotask build test                   run two tasks in order
  gotask NAME --help                  show a task's arguments

A bare gotask runs the default task, or lists the tasks if there is none.`,
		Args:              cobra.ArbitraryArgs,
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return rootRun(c.Context(), opts)
		},
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return completeTasks(opts, args, toComplete)
		},
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(flagError)
	f := cmd.Flags()
	opts.global = f
	f.SetInterspersed(false) // flags after a task name are the task's
	f.StringVarP(&opts.File, "file", "f", "", "the tasks file (default: tasks.toml here or in a parent directory)")
	f.BoolVarP(&opts.List, "list", "l", false, "list the tasks")
	f.BoolVar(&opts.JSON, "json", false, "with --list: print the tasks as JSON")
	f.BoolVarP(&opts.Dry, "dry", "n", false, "print what would run, and run nothing")
	f.BoolVarP(&opts.Echo, "echo", "e", false, "print each command before running it")
	f.BoolVarP(&opts.Warn, "warn", "w", false, "carry on after a failing command (the exit status still reports it)")
	f.BoolVar(&opts.NoPty, "no-pty", false, "never give commands a pseudo-terminal")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the commands' output and errors")
	f.BoolVarP(&opts.Yes, "yes", "y", false, "answer yes to every confirm question")
	f.BoolVar(&opts.Force, "force", false, "run the named tasks even if they are up to date")
	f.BoolVar(&opts.ForceAll, "force-all", false, "run every task, deps included, even if up to date")
	f.BoolVar(&opts.Status, "status", false, "exit 0 if the named task is up to date, 1 if not, and say why")
	f.StringVar(&opts.SudoPasswordCmd, "sudo-password-cmd", "", "a command that prints the sudo password (e.g. \"pass show sudo\")")
	f.BoolVar(&opts.PromptForSudoPassword, "prompt-for-sudo-password", false, "ask for the sudo password once, before anything runs")
	f.StringSliceVarP(&opts.Hosts, "hosts", "H", nil, "run the named tasks on these hosts over SSH: user@host:port, an ssh_config alias, or @group")
	f.IntVarP(&opts.Parallel, "parallel", "P", task.DefaultParallel, "how many hosts run at once (1: one after another)")
	f.StringSliceVar(&opts.Only, "only", nil, "run only on the hosts matching these patterns (web*)")
	f.StringSliceVar(&opts.Exclude, "exclude", nil, "skip the hosts matching these patterns")
	f.StringVar(&opts.Output, "output", "prefixed", "how several hosts' output shows: prefixed (live, [host] per line), grouped (a block per host) or json (one event per line)")
	f.StringVarP(&opts.SSHConfig, "ssh-config", "F", "", "the ssh_config file to use instead of ~/.ssh/config (\"none\" for none)")
	f.StringArrayVarP(&opts.Identities, "identity", "i", nil, "a private key file to offer (repeatable), as ssh -i")
	f.BoolVar(&opts.AcceptNewHostKeys, "accept-new-host-keys", false, "trust and record the key of hosts not yet in known_hosts (changed keys are still refused)")
	f.BoolVar(&opts.PromptForLoginPassword, "prompt-for-login-password", false, "answer SSH password and keyboard-interactive prompts from the terminal")
	f.BoolVar(&opts.Version, "version", false, "print gotask's version")
	f.BoolVar(&opts.Init, "init", false, "write a starter tasks.toml here (or to -f FILE); never overwrites")
	f.BoolVarP(&opts.Help, "help", "h", false, "show help; gotask --help TASK shows a task's help")
	_ = cmd.RegisterFlagCompletionFunc("file", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"toml"}, cobra.ShellCompDirectiveFilterFileExt
	})
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		// --help before a task name: that task's help.
		if name := firstTask(args); name != "" && c == cmd {
			if err := showTaskHelp(c.Context(), opts, name); err != nil {
				if cfg == nil {
					fmt.Fprintf(streams.ErrOut, "gotask: %v\n", err)
				} else {
					cfg.helpErr = err
				}
			}
			return
		}
		fmt.Fprint(streams.Out, c.UsageString())
	})
	_ = cmd.RegisterFlagCompletionFunc("hosts", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completeHosts(opts, toComplete)
	})
	cmd.SetUsageTemplate(usageTemplate)
	return cmd
}

// firstTask returns the first argument that is not a flag or a flag's
// value, skipping the one global flag that takes a value.
func firstTask(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-f" || a == "--file":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}

const usageTemplate = `Usage:
  {{.UseLine}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}
{{if .HasAvailableSubCommands}}
Commands:{{range .Commands}}{{if .IsAvailableCommand}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}
{{end}}
Run "gotask -l" to list the tasks, "gotask TASK --help" for a task's arguments.
Shell completion: source <(gotask completion bash); also zsh and fish.
`

func rootRun(ctx context.Context, opts *RootOptions) error {
	if opts.Init {
		return initFile(opts)
	}
	if opts.Version {
		if err := opts.cfg.goTasks.run(); err != nil {
			return err
		}
		fmt.Fprintf(opts.Streams.Out, "gotask %s\n", version(opts.cfg))
		return nil
	}
	reg, err := loadRegistry(opts)
	if err != nil {
		return err
	}
	pending := opts.cfg.pending
	if opts.List {
		defer pending.noteUnlisted(opts.Streams)
		return listTasks(opts.Streams, reg, opts.JSON)
	}
	calls, err := splitCalls(reg, opts.Args, opts.global)
	var unknown *task.UnknownTaskError
	if errors.As(err, &unknown) {
		return pending.buildAndRun(ctx, opts.Streams, err)
	}
	if err != nil {
		return err
	}
	if opts.List {
		// -l after a task name.
		return listTasks(opts.Streams, reg, opts.JSON)
	}
	if opts.JSON {
		opts.Output = string(output.JSON)
	}
	if calls == nil {
		// A bare gotask, or one with only `--help`.
		if reg.Default == "" || opts.Help {
			defer pending.noteUnlisted(opts.Streams)
			return listTasks(opts.Streams, reg, false)
		}
		calls = []task.Call{{Name: reg.Default}}
	}
	if pending != nil {
		if err := missingTask(reg, calls); err != nil {
			return pending.buildAndRun(ctx, opts.Streams, err)
		}
	}
	if help := helpCall(calls); help != "" {
		return showTaskHelp(ctx, opts, help)
	}
	if !opts.Dry {
		// Only their own binary can run Go tasks; a dry run runs none.
		if err := opts.cfg.goTasks.run(); err != nil {
			return err
		}
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	secrets := &responder.Secrets{}
	out, errOut := secrets.Writer(opts.Streams.Out), secrets.Writer(opts.Streams.ErrOut)
	defer out.Close()
	defer errOut.Close()
	// Commands and password commands inherit gotask's environment
	// without the variables that hold secrets.
	env := local.Environ(reg.SecretEnv()...)
	e := &task.Executor{
		Registry:  reg,
		Local:     &local.Runner{Env: env},
		Stdout:    out,
		Stderr:    errOut,
		Secrets:   secrets,
		Dry:       opts.Dry,
		Echo:      opts.Echo,
		Warn:      opts.Warn,
		Quiet:     opts.Quiet,
		NoPty:     opts.NoPty,
		AssumeYes: opts.Yes,
	}
	// A command gets stdin only when gotask has a real one: an in-memory
	// reader in tests, or a terminal or pipe the user gave us.
	if opts.Streams.In != nil {
		e.Stdin = opts.Streams.In
	}
	if opts.Streams.InTTY {
		e.Confirm = confirmer(opts.Streams)
	}
	if opts.Force {
		for _, c := range calls {
			e.Force = append(e.Force, c.Name)
		}
	}
	e.ForceAll = opts.ForceAll
	hosts, err := setRemote(opts, e)
	if err != nil {
		return err
	}
	defer hosts.Close()
	if opts.Status {
		return showStatus(ctx, opts.Streams, e, calls)
	}
	if err := setSudoPassword(ctx, opts, reg, e, env); err != nil {
		return secrets.Error(err)
	}
	return secrets.Error(e.Run(ctx, calls...))
}

func version(cfg *config) string {
	if cfg != nil && cfg.version != "" {
		return cfg.version
	}
	return versionString(debug.ReadBuildInfo())
}

// versionString says which gotask bi, the build information of this
// binary (ok false for none), was built from: the module version Go
// recorded (a release, or the pseudo-version go build makes from a
// commit, "+dirty" with local changes); else, for a development build,
// the commit, whether the tree was modified and when it was committed;
// else what is known. In a binary of Go tasks, it is the gotask module
// they were built against.
func versionString(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "devel (no build information)"
	}
	m := &bi.Main
	if m.Path != modulePath {
		m = nil
		for _, dep := range bi.Deps {
			if dep.Path == modulePath {
				m = dep
			}
		}
	}
	if m != nil && m.Replace != nil {
		return fmt.Sprintf("devel, built from the source at %s (%s)", m.Replace.Path, bi.GoVersion)
	}
	if m != nil && m.Version != "" && m.Version != "(devel)" {
		return m.Version
	}
	var rev, when string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" || m != &bi.Main {
		return fmt.Sprintf("devel, no VCS information (built by go run, or with -buildvcs=false) (%s)", bi.GoVersion)
	}
	var b strings.Builder
	b.WriteString("devel ")
	b.WriteString(rev[:min(12, len(rev))])
	if modified {
		b.WriteString(", modified")
	}
	if when != "" {
		b.WriteString(", committed " + when)
	}
	fmt.Fprintf(&b, " (%s)", bi.GoVersion)
	return b.String()
}

// loadRegistry finds and loads tasks.toml into the configured registry.
// With tasks from Go code, a missing tasks.toml is fine.
func loadRegistry(opts *RootOptions) (*task.Registry, error) {
	if opts.loaded != nil {
		// A second Load would find every task of tasks.toml defined
		// twice in a registry from Go code.
		return opts.loaded, nil
	}
	reg, err := loadRegistryOnce(opts)
	if err == nil {
		opts.loaded = reg
	}
	return reg, err
}

func loadRegistryOnce(opts *RootOptions) (*task.Registry, error) {
	reg := opts.cfg.registry
	path := opts.File
	if path == "" {
		root, found, err := findProject(".")
		if found == "" {
			if reg != nil {
				// Tasks from Go code alone: commands run beside the
				// gotasks/ package, as they would beside tasks.toml.
				if reg.Dir == "" {
					reg.Dir = root
				}
				return reg, reg.Validate()
			}
			if err == nil {
				err = fmt.Errorf("no %s in %s, only Go tasks, which were left out (see above); fix them, or create a %s with `gotask --init`", task.FileName, root, task.FileName)
			}
			return nil, &UsageError{Msg: err.Error()}
		}
		path = relative(found)
	}
	if reg == nil {
		reg = task.NewRegistry()
		reg.Partial = opts.cfg.goTasksLeftOut // tasks.toml may name them
	}
	if err := reg.Load(path); err != nil {
		return nil, err
	}
	return reg, nil
}

// relative shortens an absolute path below the working directory, so
// errors say tasks.toml:3:1 rather than /home/.../tasks.toml:3:1.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rest, ok := strings.CutPrefix(path, wd+string(os.PathSeparator)); ok {
		return rest
	}
	return path
}

// splitCalls splits the arguments into tasks, each with its own flags,
// Invoke style: gotask build --os linux test --short. A flag of global
// that the task has no flag of that name for is taken as gotask's own
// (gotask build -n), except those that must come first.
func splitCalls(reg *task.Registry, args []string, global *pflag.FlagSet) ([]task.Call, error) {
	var calls []task.Call
	for len(args) > 0 {
		name := args[0]
		if strings.HasPrefix(name, "-") {
			return nil, &UsageError{Msg: fmt.Sprintf("unexpected flag %s: gotask's own flags go before the first task name, a task's flags after it", name)}
		}
		t, err := reg.Resolve(name)
		if err != nil {
			return nil, err
		}
		fs, values, help := taskFlags(t)
		addGlobalFlags(fs, global)
		if err := fs.Parse(args[1:]); err != nil {
			// An unknown --flag: let the task say so, with "did you mean".
			var unknown *pflag.NotExistError
			if errors.As(err, &unknown) && unknown.GetSpecifiedShortnames() == "" {
				if _, err := t.ParseArgs(map[string]string{unknown.GetSpecifiedName(): ""}); err != nil {
					return nil, err
				}
			}
			return nil, &task.ArgError{Task: t.Name, Err: err}
		}
		call := task.Call{Name: t.Name, Args: map[string]string{}}
		fs.Visit(func(f *pflag.Flag) {
			if value, ok := values[f.Name]; ok {
				call.Args[strings.TrimPrefix(f.Name, "no-")] = value()
			}
		})
		if *help {
			call.Args = map[string]string{helpMarker: ""}
		}
		calls = append(calls, call)
		args = fs.Args()
	}
	return calls, nil
}

func hasArg(t *task.Task, name string) bool {
	for _, a := range t.Args {
		if a.Name == name {
			return true
		}
	}
	return false
}

// mustComeFirst are global flags that decide how the arguments are read
// or that end the run before any task: after a task name they would come
// too late.
var mustComeFirst = map[string]bool{"file": true, "help": true, "version": true, "init": true}

// addGlobalFlags adds to a task's flags each flag of global whose name the
// task does not use, dropping a shorthand the task uses. The flags share
// their values with global, so parsing sets gotask's options.
func addGlobalFlags(fs, global *pflag.FlagSet) {
	if global == nil {
		return
	}
	global.VisitAll(func(g *pflag.Flag) {
		if mustComeFirst[g.Name] || fs.Lookup(g.Name) != nil {
			return
		}
		f := *g
		if f.Shorthand != "" && fs.ShorthandLookup(f.Shorthand) != nil {
			f.Shorthand = ""
		}
		fs.AddFlag(&f)
	})
}

// flagError makes a mistake in gotask's own flags a usage error (exit 2)
// with the nearest flag name when there is one.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		var names []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		if s := task.Closest(name, names); s != "" {
			msg += fmt.Sprintf("; did you mean --%s?", s)
		}
	}
	return &UsageError{Msg: msg + " (see gotask --help)"}
}

// helpMarker in a Call's Args means "show this task's help".
const helpMarker = "\x00help"

func helpCall(calls []task.Call) string {
	for _, c := range calls {
		if _, ok := c.Args[helpMarker]; ok {
			return c.Name
		}
	}
	return ""
}

// taskFlags builds the flag set of a task's arguments. Every value is
// taken as a string and typed by task.ParseArgs, which names the task and
// argument in its errors.
func taskFlags(t *task.Task) (*pflag.FlagSet, map[string]func() string, *bool) {
	fs := pflag.NewFlagSet(t.Name, pflag.ContinueOnError)
	fs.SetInterspersed(false) // the next task name ends this task's flags
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	values := map[string]func() string{}
	for _, a := range t.Args {
		if a.Type == task.Bool {
			v := fs.BoolP(a.Name, a.Short, false, a.Help)
			values[a.Name] = func() string { return fmt.Sprint(*v) }
			no := "no-" + a.Name
			if !hasArg(t, no) {
				// --no-x turns off a bool whose default is true.
				off := fs.Bool(no, false, "")
				fs.Lookup(no).Hidden = true
				values[no] = func() string { return fmt.Sprint(!*off) }
			}
			continue
		}
		v := fs.StringP(a.Name, a.Short, "", a.Help)
		values[a.Name] = func() string { return *v }
	}
	help := fs.BoolP("help", "h", false, "show this task's help")
	return fs, values, help
}

// errNotUpToDate is --status's answer for a task that would run.
var errNotUpToDate = &exitStatus{code: ExitFailure}

// exitStatus ends the run with a code and no further message.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// showStatus answers --status: whether each named task is up to date.
func showStatus(ctx context.Context, s *Streams, e *task.Executor, calls []task.Call) error {
	var stale bool
	for _, c := range calls {
		u, err := e.Status(ctx, c)
		if err != nil {
			return err
		}
		if u.UpToDate {
			fmt.Fprintf(s.Out, "task %s is up to date\n", c.Name)
			continue
		}
		stale = true
		fmt.Fprintf(s.Out, "task %s is not up to date:\n", c.Name)
		for _, r := range u.Reasons {
			fmt.Fprintf(s.Out, "  %s\n", r)
		}
	}
	if stale {
		return errNotUpToDate
	}
	return nil
}

// setSudoPassword sets where sudo passwords come from, in order:
// GOTASK_SUDO_PASSWORD, then --sudo-password-cmd or tasks.toml's
// sudo_password_cmd; --prompt-for-sudo-password asks once up front, and on
// a terminal gotask asks once before the first sudo command if nothing
// else gave a password. Host groups with sudo_password_env come first for
// their hosts (see task.Executor).
func setSudoPassword(ctx context.Context, opts *RootOptions, reg *task.Registry, e *task.Executor, env []string) error {
	for _, name := range local.SecretEnv {
		if v := os.Getenv(name); v != "" {
			if err := e.Secrets.Add(v); err != nil {
				return fmt.Errorf("$%s: %w", name, err)
			}
		}
	}
	sources := []responder.PasswordFunc{responder.FromEnv("GOTASK_SUDO_PASSWORD")}
	cmd := opts.SudoPasswordCmd
	if cmd == "" {
		cmd = reg.SudoPasswordCmd
	}
	if cmd != "" {
		sources = append(sources, responder.FromCommand(cmd, env, opts.Streams.ErrOut))
	}
	e.SudoPassword = responder.Once(e.Secrets.Checked(responder.First(sources...)))
	prompt := passwordPrompt(opts.Streams, "[gotask] sudo password: ")
	if prompt != nil {
		prompt = e.Secrets.Checked(prompt)
	}
	if opts.PromptForSudoPassword {
		if prompt == nil {
			return &UsageError{Msg: "--prompt-for-sudo-password needs a terminal on stdin; use GOTASK_SUDO_PASSWORD or --sudo-password-cmd instead"}
		}
		pw, err := prompt(ctx)
		if err != nil {
			return err
		}
		e.SudoPassword = func(context.Context) (string, error) { return pw, nil }
		return nil
	}
	if prompt != nil {
		e.SudoPrompt = responder.Once(prompt)
	}
	return nil
}

// passwordPrompt returns a PasswordFunc that asks on the terminal with
// echo off, or nil when stdin is not a terminal.
func passwordPrompt(s *Streams, question string) responder.PasswordFunc {
	in, ok := s.In.(*os.File)
	if !ok || !s.InTTY {
		return nil
	}
	return func(context.Context) (string, error) {
		// Echo off before the question shows: an answer typed as soon
		// as it shows must not be echoed either.
		if restore, err := echoOff(int(in.Fd())); err == nil {
			defer restore()
		}
		fmt.Fprint(s.ErrOut, question)
		pw, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(s.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(pw), nil
	}
}

// confirmer asks yes/no questions on the terminal.
func confirmer(s *Streams) func(string) (bool, error) {
	return func(q string) (bool, error) {
		fmt.Fprintf(s.ErrOut, "%s [y/N] ", q)
		line, err := bufio.NewReader(s.In).ReadString('\n')
		if err != nil && line == "" {
			return false, fmt.Errorf("no answer to %q", q)
		}
		answer := strings.ToLower(strings.TrimSpace(line))
		return answer == "y" || answer == "yes", nil
	}
}
