package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner/local"
	"github.com/gotask/gotask/service"
	"github.com/gotask/gotask/task"
)

// serviceVerb returns the service command that args start with, when
// the project declares services: then up, ps, restart, stop, logs and
// down are gotask's own commands and no task may have their names (the
// loader checks that).
func serviceVerb(reg *task.Registry, args []string) string {
	if len(args) == 0 || len(reg.Services()) == 0 || !slices.Contains(task.ServiceVerbs, args[0]) {
		return ""
	}
	return args[0]
}

// runServiceVerb runs a service command: gotask VERB [flags] [SERVICE...].
func runServiceVerb(ctx context.Context, opts *rootOptions, reg *task.Registry, verb string, args []string) error {
	switch verb {
	case "up":
		return upRun(ctx, opts, reg, args)
	}
	return &UsageError{Msg: fmt.Sprintf("gotask %s is not yet available; `gotask up` runs the services in the foreground, Ctrl-C stops them", verb)}
}

const upHelp = `Usage:
  gotask up [SERVICE...]

Starts the services of tasks.toml ([services.NAME]), all of them when none
is named, with the services they depend on, and supervises them in the
foreground until Ctrl-C (or SIGTERM):

  - the tasks in a service's deps run first, once;
  - each service starts once the services in its deps are ready (their
    ready check passed), its replicas together;
  - output is shown line by line, prefixed [api.1] (several replicas)
    or [worker] (one);
  - a process that ends is restarted per the service's restart policy,
    with a doubling backoff; after max_restarts crashes in 5 minutes its
    instance is failed and the others carry on;
  - restart_when = { rss, after } recycles a process: a graceful stop,
    then a new one;
  - watch = ["**/*.go"] restarts a service (one instance at a time) when
    a file it names changes;
  - Ctrl-C stops every instance (dependants first): stop_signal to its
    process group and cgroup, then KILL after stop_grace; a second
    Ctrl-C kills them at once.

At the end gotask up prints each instance's state, restarts, last exit
and uptime, and exits 1 if any instance failed (0 otherwise).

Flags: gotask's own (see gotask --help): -f FILE before up; --var
name=value, --env NAME=value and -q before or after it.
`

// upRun is gotask up: start the services, supervise them until Ctrl-C or
// until none runs any more, stop them, and print a summary.
func upRun(ctx context.Context, opts *rootOptions, reg *task.Registry, args []string) error {
	// gotask's own flags may come after the verb too (gotask up --var
	// port=8081), as after a task name.
	fs := pflag.NewFlagSet("up", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if opts.global != nil {
		fs.AddFlagSet(opts.global)
	} else {
		fs.BoolVarP(&opts.Help, "help", "h", false, "")
	}
	file, global := opts.File, opts.Global
	if err := fs.Parse(args); err != nil {
		return &UsageError{Msg: fmt.Sprintf("gotask up: %v (see gotask up --help)", err)}
	}
	if opts.File != file || opts.Global != global {
		return &UsageError{Msg: "gotask up: -f and -g choose the tasks file before anything is read: put them before up"}
	}
	if opts.Help {
		_, err := io.WriteString(opts.Streams.Out, upHelp)
		return err
	}
	names := fs.Args()
	all := reg.Services()
	var allNames []string
	for _, s := range all {
		allNames = append(allNames, s.Name)
	}
	for _, n := range names {
		if _, ok := reg.Service(n); !ok {
			msg := fmt.Sprintf("gotask up: no service %q in %s (its services: %s)", n, reg.File, strings.Join(allNames, ", "))
			if m := task.Closest(n, allNames); m != "" {
				msg += fmt.Sprintf("; did you mean %q?", m)
			}
			return &UsageError{Msg: msg}
		}
	}
	if err := setVars(reg, opts.Vars); err != nil {
		return err
	}
	cliEnv, err := envFlags(reg, opts.Env)
	if err != nil {
		return err
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	secrets := &responder.Secrets{}
	out, errOut := secrets.Writer(opts.Streams.Out), secrets.Writer(opts.Streams.ErrOut)
	defer out.Close()
	defer errOut.Close()
	env := local.Environ(reg.SecretEnv()...)
	e := &task.Executor{
		Registry: reg,
		Local:    &local.Runner{Env: env},
		Stdout:   out,
		Stderr:   errOut,
		Secrets:  secrets,
		Quiet:    opts.Quiet,
		NoPty:    true, // a service's deps run beside services' output
		Env:      cliEnv,
	}
	if opts.Streams.In != nil {
		e.Stdin = opts.Streams.In
	}
	chosen := serviceClosure(reg, names)

	// Every instance's command is rendered once before anything runs: a
	// value that cannot stand where it is placed stops `up` here.
	for _, s := range chosen {
		for r := 1; r <= s.Replicas; r++ {
			if _, err := e.ServiceCommand(ctx, s, r); err != nil {
				return err
			}
		}
	}
	// The tasks in deps run first, once each, in the order met.
	var calls []task.Call
	for _, s := range chosen {
		for _, d := range s.Deps {
			if _, isService := reg.Service(d); !isService && !slices.ContainsFunc(calls, func(c task.Call) bool { return c.Name == d }) {
				calls = append(calls, task.Call{Name: d})
			}
		}
	}
	if len(calls) > 0 {
		if err := e.Run(ctx, calls...); err != nil {
			return secrets.Error(err)
		}
	}

	con := output.New(out, errOut, output.Options{Color: opts.Streams.color(), ErrColor: opts.Streams.errColor()})
	width := 0
	for _, s := range chosen {
		label := s.Name
		if s.Replicas > 1 {
			label = fmt.Sprintf("%s.%d", s.Name, s.Replicas)
		}
		width = max(width, len(label))
	}
	specs := make([]service.Spec, 0, len(chosen))
	for _, s := range chosen {
		spec, err := serviceSpec(ctx, e, s, env)
		if err != nil {
			return err
		}
		specs = append(specs, spec)
	}
	log := con.Lines(errOut)
	sup, err := service.New(service.Config{
		Services: specs,
		Log:      log,
		Output: func(svc string, replica int, label string) (io.Writer, io.Writer, func()) {
			o, eo, done := con.Host(svc, label, width, false)
			return o, eo, func() { done(output.End{}) }
		},
	})
	if err != nil {
		return err
	}
	// up's own lines go through a writer of their own: the supervisor
	// writes log from its goroutines.
	say := con.Lines(errOut)
	startErr := sup.Start(ctx)
	if startErr != nil && ctx.Err() == nil {
		fmt.Fprintf(say, "gotask: up: %v\n", startErr)
	}
	if ctx.Err() == nil {
		fmt.Fprintf(say, "gotask: up: %s; Ctrl-C stops them\n", readyLine(sup.Status()))
	}
	ended := make(chan error, 1)
	go func() { ended <- sup.Wait() }()
	select {
	case <-ctx.Done():
	case <-ended:
	}
	before := sup.Status() // the uptimes, before the processes end
	at := time.Now()
	// A second Ctrl-C (or SIGTERM) while they stop kills them at once,
	// rather than ending gotask and leaving them running.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	stopped := make(chan struct{})
	go func() {
		select {
		case <-again:
			fmt.Fprintf(say, "gotask: up: killing what is still stopping\n")
			sup.Kill()
		case <-stopped:
		}
	}()
	_ = sup.Stop(context.Background())
	close(stopped)
	waitErr := sup.Wait()
	log.Flush()
	say.Flush()
	summary(errOut, opts.Streams, sup.Status(), before, at)
	if startErr != nil && ctx.Err() == nil {
		waitErr = errors.Join(startErr, waitErr)
	}
	return waitErr
}

// serviceClosure returns the named services (all when none) and the
// services they depend on, by name.
func serviceClosure(reg *task.Registry, names []string) []*task.Service {
	if len(names) == 0 {
		return reg.Services()
	}
	want := map[string]bool{}
	var add func(string)
	add = func(n string) {
		s, ok := reg.Service(n)
		if !ok || want[n] {
			return
		}
		want[n] = true
		for _, d := range s.Deps {
			add(d)
		}
	}
	for _, n := range names {
		add(n)
	}
	var out []*task.Service
	for _, s := range reg.Services() {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// serviceSpec turns a service of tasks.toml into what the supervisor
// runs; its commands are rendered at each start, with env (gotask's
// environment without its secrets) under the service's own.
func serviceSpec(ctx context.Context, e *task.Executor, s *task.Service, env []string) (service.Spec, error) {
	sig, err := service.ParseSignal(s.StopSignal)
	if err != nil {
		return service.Spec{}, err
	}
	first, err := e.ServiceCommand(ctx, s, 1) // where watch patterns start: the service's dir
	if err != nil {
		return service.Spec{}, err
	}
	var deps []string
	for _, d := range s.Deps {
		if _, ok := e.Registry.Service(d); ok {
			deps = append(deps, d)
		}
	}
	maxRestarts := s.MaxRestarts
	if maxRestarts == 0 {
		maxRestarts = -1 // Spec's zero is the default; negative allows none
	}
	return service.Spec{
		Name:     s.Name,
		Replicas: s.Replicas,
		Deps:     deps,
		Command: func(ctx context.Context, replica int) (service.Command, error) {
			c, err := e.ServiceCommand(ctx, s, replica)
			if err != nil {
				return service.Command{}, err
			}
			return service.Command{
				Line:  c.Line,
				Dir:   c.Dir,
				Env:   append(env[:len(env):len(env)], c.Env...),
				Ready: service.ReadyCheck{HTTP: c.Ready.HTTP, TCP: c.Ready.TCP, Sh: c.Ready.Sh},
			}, nil
		},
		Restart:      service.Policy(s.Restart),
		Backoff:      s.Backoff,
		MaxBackoff:   s.MaxBackoff,
		MaxRestarts:  maxRestarts,
		StopSignal:   sig,
		StopGrace:    s.StopGrace,
		RecycleRSS:   s.RecycleRSS,
		RecycleAfter: s.RecycleAfter,
		Nice:         s.Nice,
		Watch:        s.Watch,
		WatchDir:     first.Dir,
	}, nil
}

// readyLine says how many instances are ready: "3 of 3 instances ready".
func readyLine(sts []service.Status) string {
	ready := 0
	for _, st := range sts {
		if st.State == service.Ready {
			ready++
		}
	}
	return fmt.Sprintf("%d of %d instances ready", ready, len(sts))
}

// summary prints each instance's end: state, restarts, last exit, and
// how long its last process had been up when `up` began to stop.
func summary(w io.Writer, s *Streams, end, before []service.Status, at time.Time) {
	labels := make([]string, len(end))
	count := map[string]int{}
	for _, st := range end {
		count[st.Service]++
	}
	width := len("instance")
	for i, st := range end {
		labels[i] = st.Service
		if count[st.Service] > 1 {
			labels[i] = fmt.Sprintf("%s.%d", st.Service, st.Replica)
		}
		width = max(width, len(labels[i]))
	}
	failed := 0
	var b strings.Builder
	for i, st := range end {
		up := "-"
		if i < len(before) && before[i].Pid != 0 && !before[i].Since.IsZero() {
			up = at.Sub(before[i].Since).Round(time.Second).String()
		}
		state := string(st.State)
		if st.State == service.Failed {
			failed++
			state = s.errPaint(output.Red, state)
		}
		last := st.LastExit
		if last == "" {
			last = "-"
		}
		fmt.Fprintf(&b, "  %-*s  %-7s  restarts %-3d  last exit %-12s  up %s", width, labels[i], state, st.Restarts, last, up)
		if st.Recycles > 0 {
			fmt.Fprintf(&b, "  (%d recycled)", st.Recycles)
		}
		if st.Error != "" {
			fmt.Fprintf(&b, "  %s", st.Error)
		}
		b.WriteString("\n")
	}
	head := fmt.Sprintf("\ngotask up: %d instances, %d failed\n", len(end), failed)
	_, _ = io.WriteString(w, head+b.String())
}
