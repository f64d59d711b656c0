package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner/local"
	"github.com/gotask/gotask/runner/remote"
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
	// args is Main's command line, for gotask up -d to start the
	// background supervisor with.
	args []string
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
	if isPersistServe(args) {
		return servePersist(ctx, streams)
	}
	cfg := config{args: args}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.registry == nil {
		// Plain gotask: Go tasks in gotasks/ run in a binary of their own.
		if handled, err := runGoTasks(ctx, args, streams, &cfg); handled {
			fmt.Fprintf(streams.ErrOut, "%s %s\n", streams.errPaint(output.Red+output.Bold, "gotask:"), withHint(err))
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
	cmd := newCmdRoot(streams, &cfg, nil)
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
		fmt.Fprintf(streams.ErrOut, "%s %s\n", streams.errPaint(output.Red+output.Bold, "gotask:"), withHint(err))
	}
	return ExitCode(err)
}

// rootOptions is what the root command's flags and arguments ask for:
// newCmdRoot fills it by parsing them, and rootRun does the work (the
// shape of cli/cli's XOptions, NewCmdX and xRun). It is unexported, as is
// the command tree: Main is the package's API.
type rootOptions struct {
	Streams *Streams

	File   string
	Global bool
	List   bool
	JSON   bool

	ListHosts bool   // --list-hosts
	Inventory string // --inventory FILE

	// AdHoc are the words after a `--` that no task name comes before
	// (gotask -H web1 -- uptime): the command to run on the hosts; nil
	// when there is no such `--`.
	AdHoc     []string
	AdHocSudo bool // --sudo: run AdHoc through sudo
	Dry       bool
	Echo      bool
	Warn      bool
	NoPty     bool
	Quiet     bool
	Yes       bool
	Version   bool
	Init      bool
	Help      bool

	// Put and Get copy a file or tree to or from the hosts of -H with no
	// task (--put LOCAL / --get REMOTE), to To (--to), with Mode (--mode,
	// octal permission bits); "" when not given.
	Put, Get, To, Mode string

	Force    bool
	ForceAll bool
	Status   bool
	NoWait   bool // --no-wait: a task whose lock is held fails at once
	Watch    bool // --watch: rerun the tasks when their sources change

	SudoPasswordCmd       string
	PromptForSudoPassword bool

	Hosts                  []string
	Parallel               int
	Only, Exclude          []string
	Resume, RetryFailed    bool
	CheckHosts             bool
	Output                 string
	SSHConfig              string
	Identities             []string
	AcceptNewHostKeys      bool
	ForwardAgent           bool
	PromptForLoginPassword bool
	Persist                time.Duration // --persist: keep connections for later runs this long unused
	PersistStop            bool          // --persist-stop

	// MaxHandshakes and MaxIdleHosts are remote.Config's scale knobs
	// (--max-handshakes, --max-idle-hosts); see remoteConfig.
	MaxHandshakes, MaxIdleHosts int

	Vars []string // --var name=value, in order
	Env  []string // --env NAME=value, in order

	Args []string // tasks and their flags, as given

	cfg    *config
	loaded *task.Registry // by loadRegistry, which loads only once
	// global holds gotask's own flags, which are also taken after a task
	// name where the task has no flag of that name.
	global *pflag.FlagSet
}

// newCmdRoot builds the root command, with gotask's flags bound to a
// rootOptions. runF, when set, is called with the parsed options in place
// of rootRun, so that tests check flag parsing apart from side effects
// (TestNewCmdRoot); Main passes nil. cfg is what Main's Options set.
func newCmdRoot(streams *Streams, cfg *config, runF func(*rootOptions) error) *cobra.Command {
	opts := &rootOptions{Streams: streams, cfg: cfg}
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
  gotask test -- -run TestX           pass the words after -- to the task
  gotask -H web1,web2 deploy          run a task on hosts over SSH
  gotask --init                       write a starter tasks.toml here
  gotask -H web1,web2 -- uptime       run a command on hosts (no tasks.toml needed)
  gotask -H @web --put app --to /opt/app/
                                      copy a file to the hosts
  gotask -H web1,web2 --get /var/log/app.log --to logs/
                                      copy a file from each host, into logs/HOST/
  gotask --list-hosts                 list the host groups, hosts and their vars
  gotask up [SERVICE...]              start the services ([services.X]) in the foreground; Ctrl-C stops them
  gotask up -d                        the same in the background; gotask logs [-f] shows their output
  gotask ps / restart / stop / down   the running services: list, rolling restart, stop, stop all

A bare gotask runs the default task, or lists the tasks if there is none.`,
		Args:              cobra.ArbitraryArgs,
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Args = args
			if c.ArgsLenAtDash() == 0 {
				// `--` before any task name: an ad-hoc command.
				opts.AdHoc, opts.Args = nonNil(args), nil
			}
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
	f.BoolVarP(&opts.Global, "global", "g", false, "use the global tasks file, ~/.config/gotask/tasks.toml ($XDG_CONFIG_HOME respected), in the current directory")
	f.BoolVarP(&opts.List, "list", "l", false, "list the tasks")
	f.BoolVar(&opts.JSON, "json", false, "with --list: print the tasks as JSON; with --list-hosts, the hosts")
	f.BoolVar(&opts.ListHosts, "list-hosts", false, "list the host groups and hosts, with the vars each host gives its tasks")
	f.StringVar(&opts.Inventory, "inventory", "", "add the host groups and host vars of FILE, a TOML file holding only [hosts] and [host_vars]")
	f.BoolVar(&opts.AdHocSudo, "sudo", false, "with -H HOSTS -- COMMAND, --put or --get: run the command or copy through sudo, as root")
	f.StringVar(&opts.Put, "put", "", "with -H HOSTS and --to DEST: copy the local file or directory `PATH` to DEST on each host, no task needed")
	f.StringVar(&opts.Get, "get", "", "with -H HOSTS and --to DIR: copy `PATH` from each host to DIR here; from more than one host (several, or a @group), into DIR/HOST/, one directory per host")
	f.StringVar(&opts.To, "to", "", "with --put or --get: where the copy goes; a `DEST` ending in / is a directory to copy into")
	f.StringVar(&opts.Mode, "mode", "", "with --put or --get: the copies' permission bits, octal `MODE` like 0755 (default: the source's)")
	f.BoolVarP(&opts.Dry, "dry", "n", false, "print what would run, and run nothing")
	f.BoolVarP(&opts.Echo, "echo", "e", false, "print each command before running it")
	f.BoolVarP(&opts.Warn, "warn", "w", false, "carry on after a failing command (the exit status still reports it)")
	f.BoolVar(&opts.NoPty, "no-pty", false, "never give commands a pseudo-terminal")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the commands' output and errors")
	f.BoolVarP(&opts.Yes, "yes", "y", false, "answer yes to every confirm question")
	f.BoolVar(&opts.Force, "force", false, "run the named tasks even if they are up to date")
	f.BoolVar(&opts.ForceAll, "force-all", false, "run every task, deps included, even if up to date")
	f.BoolVar(&opts.NoWait, "no-wait", false, "fail at once, naming the holder, when a task's lock is held by another gotask (default: wait for it)")
	f.BoolVar(&opts.Watch, "watch", false, "run the named tasks, then again whenever their sources change (a change during a run stops it and starts again)")
	f.BoolVar(&opts.Status, "status", false, "exit 0 if the named task is up to date, 1 if not, and say why")
	f.StringVar(&opts.SudoPasswordCmd, "sudo-password-cmd", "", "a command that prints the sudo password (e.g. \"pass show sudo\")")
	f.BoolVar(&opts.PromptForSudoPassword, "prompt-for-sudo-password", false, "ask for the sudo password once, before anything runs")
	f.StringSliceVarP(&opts.Hosts, "hosts", "H", nil, "run the named tasks on these hosts over SSH: user@host:port, an ssh_config alias, or @group")
	f.IntVarP(&opts.Parallel, "parallel", "P", task.DefaultParallel, "how many hosts run at once (1: one after another)")
	f.StringSliceVar(&opts.Only, "only", nil, "run only on the hosts matching these patterns (web*)")
	f.StringSliceVar(&opts.Exclude, "exclude", nil, "skip the hosts matching these patterns")
	f.BoolVar(&opts.Resume, "resume", false, "skip the hosts where the task's last run ended ok with the same definition and arguments (.gotask/hosts)")
	f.BoolVar(&opts.RetryFailed, "retry-failed", false, "run only on the hosts that failed, were unreachable or were not reached last time (.gotask/hosts)")
	f.BoolVar(&opts.CheckHosts, "check-hosts", false, "check each host of -H or of the named task, in parallel: host key, login and, if the task uses sudo, the sudo password; change nothing, exit 1 if any failed")
	f.StringVar(&opts.Output, "output", "prefixed", "how several hosts' output shows: prefixed (live, [host] per line), grouped (a block per host) or json (one event per line)")
	f.StringVarP(&opts.SSHConfig, "ssh-config", "F", "", "the ssh_config file to use instead of ~/.ssh/config (\"none\" for none)")
	f.StringArrayVarP(&opts.Identities, "identity", "i", nil, "a private key file to offer (repeatable), as ssh -i")
	f.BoolVar(&opts.AcceptNewHostKeys, "accept-new-host-keys", false, "trust and record the key of hosts not yet in known_hosts (changed keys are still refused)")
	f.BoolVar(&opts.ForwardAgent, "forward-agent", false, "forward the ssh-agent to the hosts whose ssh_config says ForwardAgent yes (never done without this flag)")
	f.DurationVar(&opts.Persist, "persist", 0, "keep the SSH connections open for later runs, in a mux process of yours that ends after `DURATION` unused (like ssh's ControlPersist)")
	f.BoolVar(&opts.PersistStop, "persist-stop", false, "stop the connection mux of --persist, closing its connections")
	f.BoolVar(&opts.PromptForLoginPassword, "prompt-for-login-password", false, "answer SSH password and keyboard-interactive prompts from the terminal")
	f.IntVar(&opts.MaxHandshakes, "max-handshakes", 0, fmt.Sprintf("at most `N` SSH connections set up (connect, handshake, login) at once, whatever -P says; a host's connect timeout starts with its turn (default: %d per CPU, %d here)", remote.DefaultMaxHandshakesPerCPU, remote.DefaultMaxHandshakesPerCPU*runtime.GOMAXPROCS(0)))
	f.IntVar(&opts.MaxIdleHosts, "max-idle-hosts", remote.DefaultMaxIdleHosts, "keep at most `N` hosts that no task is using connected, for later tasks of the run; beyond them the one left longest ago is disconnected (0: disconnect each host once its task is done there)")
	f.StringArrayVar(&opts.Env, "env", nil, "set an environment variable `NAME=value` for every command of the run (repeatable; over [env], dotenv and the tasks' env)")
	f.StringArrayVar(&opts.Vars, "var", nil, "set a var of tasks.toml for this run, `name=value` (repeatable; replaces the value or sh command of a declared var)")
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
		if c.Long != "" {
			fmt.Fprintf(streams.Out, "%s\n\n", c.Long)
		}
		fmt.Fprint(streams.Out, c.UsageString())
	})
	_ = cmd.RegisterFlagCompletionFunc("hosts", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completeHosts(opts, toComplete)
	})
	_ = cmd.RegisterFlagCompletionFunc("var", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return completeVars(opts, toComplete)
	})
	cmd.SetUsageTemplate(usageTemplate)
	return cmd
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

func rootRun(ctx context.Context, opts *rootOptions) error {
	if opts.Global && opts.File != "" {
		return &UsageError{Msg: "-g and -f both name the tasks file; use one of them"}
	}
	if opts.Init {
		return initFile(opts)
	}
	if opts.PersistStop {
		return stopPersist(ctx, opts.Streams)
	}
	if opts.Version {
		if err := opts.cfg.goTasks.run(); err != nil {
			return err
		}
		fmt.Fprintf(opts.Streams.Out, "gotask %s\n", version(opts.cfg))
		return nil
	}
	if err := checkTransferFlags(opts); err != nil {
		return err
	}
	if opts.AdHocSudo && opts.AdHoc == nil && opts.Put == "" && opts.Get == "" {
		return &UsageError{Msg: "--sudo applies to an ad-hoc command or copy only (gotask -H HOSTS --sudo -- COMMAND, or with --put/--get); a task says sudo = true in tasks.toml"}
	}
	reg, err := loadRegistry(opts)
	if err != nil {
		return err
	}
	pending := opts.cfg.pending
	if opts.ListHosts {
		if err := reg.ResolveGroups(ctx, local.Environ(reg.SecretEnv()...), reg.AllGroups()); err != nil {
			return err
		}
		return listHosts(opts.Streams, reg, opts.JSON)
	}
	if opts.List {
		defer pending.noteUnlisted(opts.Streams)
		return listTasks(opts.Streams, reg, opts.JSON)
	}
	if verb := serviceVerb(reg, opts.Args); verb != "" {
		return runServiceVerb(ctx, opts, reg, verb, opts.Args[1:])
	}
	if opts.AdHoc != nil {
		name, err := addAdHoc(reg, opts)
		if err != nil {
			return err
		}
		opts.Args = []string{name}
	}
	if opts.Put != "" || opts.Get != "" {
		name, err := addTransfer(reg, opts)
		if err != nil {
			return err
		}
		opts.Args = []string{name}
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
	if err := setVars(reg, opts.Vars); err != nil {
		return err
	}
	cliEnv, err := envFlags(reg, opts.Env)
	if err != nil {
		return err
	}
	if opts.JSON {
		opts.Output = string(output.JSON)
	}
	if calls == nil && opts.CheckHosts && !opts.Help {
		calls = []task.Call{} // the hosts of -H, not the default task's
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
	if opts.Streams.InTTY && !opts.Status {
		// A required argument left out is asked for, before anything runs.
		calls = askMissing(opts.Streams, reg, calls)
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
	// Dynamic inventories run once, before anything else, and only for
	// the groups this run uses.
	if err := reg.ResolveGroups(ctx, env, reg.GroupsFor(calls, opts.Hosts)); err != nil {
		return err
	}
	if err := checkGetHosts(reg, opts); err != nil {
		return err
	}
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
		Env:       cliEnv,
		NoWait:    opts.NoWait,
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
	if opts.CheckHosts {
		return secrets.Error(checkHosts(ctx, out, e, calls))
	}
	if opts.Watch {
		report := func(err error) {
			fmt.Fprintf(errOut, "%s %s\n", opts.Streams.errPaint(output.Red+output.Bold, "gotask:"), withHint(secrets.Error(err)))
		}
		return secrets.Error(watchRun(ctx, e, calls, errOut, report))
	}
	return secrets.Error(e.Run(ctx, calls...))
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

// envFlags reads --env NAME=value. A name must be a variable name, and
// not one tasks.toml names as a secret (a sudo_password_env or
// response_env): gotask keeps those out of every command, and a value on
// the command line is no place for a secret anyway.
func envFlags(reg *task.Registry, list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	secret := reg.SecretEnv()
	env := make(map[string]string, len(list))
	for _, kv := range list {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !task.ValidEnvName(name) {
			return nil, &UsageError{Msg: fmt.Sprintf("--env %q: write NAME=value, NAME made of letters, digits and '_', not starting with a digit", kv)}
		}
		if slices.Contains(secret, name) {
			return nil, &UsageError{Msg: fmt.Sprintf("--env %s: tasks.toml names %s as a secret, which gotask reads from its own environment only; export it instead", name, name)}
		}
		env[name] = value
	}
	return env, nil
}

// setVars applies --var name=value to the registry's vars. The name must
// be a var tasks.toml declares: a misspelt --var would otherwise change
// nothing and go unnoticed. A computed var given with --var takes the
// value given, and its command does not run.
func setVars(reg *task.Registry, vars []string) error {
	for _, kv := range vars {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return &UsageError{Msg: "--var takes name=value, like --var version=1.2"}
		}
		_, plain := reg.Vars[name]
		_, computed := reg.ComputedVars[name]
		if !plain && !computed && !reg.IsHostVar(name) {
			msg := fmt.Sprintf("--var %s: tasks.toml declares no var %q; declare it under [vars] first", name, name)
			if len(reg.Vars)+len(reg.ComputedVars) > 0 {
				known := slices.Sorted(maps.Keys(reg.Vars))
				known = append(known, slices.Sorted(maps.Keys(reg.ComputedVars))...)
				slices.Sort(known)
				msg += " (its vars: " + strings.Join(known, ", ") + ")"
			}
			return &UsageError{Msg: msg}
		}
		reg.SetVar(name, value)
	}
	return nil
}
