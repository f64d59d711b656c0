package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
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
	case "ps":
		return psRun(ctx, opts, reg, args)
	case "restart":
		return restartRun(ctx, opts, reg, args)
	case "stop":
		return stopRun(ctx, opts, reg, args)
	case "logs":
		return logsRun(ctx, opts, reg, args)
	case "down":
		return downRun(ctx, opts, reg, args)
	}
	return &UsageError{Msg: fmt.Sprintf("gotask %s is not a service command", verb)}
}

const upHelp = `Usage:
  gotask up [-d] [SERVICE...]

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
  - hosts = "web" (a group, or a list) runs a service's instances on
    those hosts over SSH, prefixed [web1 api]: stopped through their
    process group, ready checks run or dialled from the host's side;
  - watch = ["**/*.go"] restarts a service (one instance at a time) when
    a file it names changes;
  - Ctrl-C stops every instance (dependants first): stop_signal to its
    process group and cgroup, then KILL after stop_grace; a second
    Ctrl-C kills them at once.

At the end gotask up prints each instance's state, restarts, last exit
and uptime, and exits 1 if any instance failed (0 otherwise).

While it runs, gotask ps, restart, stop, logs and down reach it through a
unix socket in .gotask/run/ (mode 0600, for your user only). gotask up when
a supervisor already runs for the project asks that one to start the named
services (or says they are up) instead of starting a second.

With -d, the supervisor runs in the background (its own session), its
output in .gotask/logs/up.log, rotated at 10 MB (gotask logs reads it);
gotask up -d returns once every service is ready, or, when one failed,
prints which and its last log lines and exits 1.

Flags:
  -d, --detach   run the supervisor in the background
  and gotask's own (see gotask --help): -f FILE before up; --var
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
	detach := fs.BoolP("detach", "d", false, "")
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
	// The background supervisor that gotask up -d started: its output
	// goes to its log.
	ready := detachedChild()
	if ready != nil {
		defer ready.Close()
		streams, log, err := detachedStreams(reg)
		if err != nil {
			reportReady(ready, err, nil)
			return err
		}
		defer log.Close()
		opts.Streams = streams
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
	ctx = stopOnHangUp(ctx)
	// A supervisor runs for hours: main's GC setting, right for short
	// runs, would let its heap grow to four times what is live.
	debug.SetGCPercent(100)
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
	// Services on hosts: one SSH pool, as for tasks (svc-hosts).
	var connect func(context.Context, string) (service.Host, error)
	hostAddrs := map[string]string{}
	if slices.ContainsFunc(chosen, func(s *task.Service) bool { return len(s.Hosts) > 0 }) {
		hs, err := setRemote(opts, e)
		if err != nil {
			return err
		}
		defer hs.Close()
		connect = hostConnector(hs, hostAddrs)
	}

	// Every instance's command is rendered once before anything runs: a
	// value that cannot stand where it is placed stops `up` here.
	for _, s := range chosen {
		if len(s.Hosts) > 0 {
			continue // rendered per host by serviceHosts
		}
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
	runDeps := func() error {
		if len(calls) > 0 {
			return secrets.Error(e.Run(ctx, calls...))
		}
		return nil
	}
	if ready == nil {
		// A supervisor runs the project already: ask it, not a second.
		if joined, err := joinRunning(ctx, opts, reg, names, runDeps); joined {
			return err
		}
		// In the foreground, before the background supervisor starts.
		if err := runDeps(); err != nil {
			return err
		}
		if *detach {
			return upDetach(ctx, opts, reg, names, withoutDetach(opts.cfg.args, opts.Args))
		}
	}
	ctl, err := service.Claim(runDir(reg))
	var running *service.RunningError
	if errors.As(err, &running) && ready == nil {
		// Another gotask up got there first.
		return joinStarting(ctx, opts, reg, names, running)
	}
	if err != nil {
		if ready != nil {
			reportReady(ready, err, nil)
		}
		return err
	}
	defer ctl.Close()

	con := output.New(out, errOut, output.Options{Color: opts.Streams.color(), ErrColor: opts.Streams.errColor()})
	width := 0
	// Every service, not only those started now: the control socket may
	// start the others.
	for _, s := range reg.Services() {
		label := s.Name
		if s.Replicas > 1 {
			label = fmt.Sprintf("%s.%d", s.Name, s.Replicas)
		}
		width = max(width, len(label))
	}
	specs := make([]service.Spec, 0, len(reg.Services()))
	for _, s := range reg.Services() {
		spec, err := serviceSpec(ctx, e, s, env)
		if err != nil {
			return err
		}
		if err := serviceHosts(ctx, e, s, &spec, hostAddrs); err != nil {
			return err
		}
		for _, h := range spec.Hosts { // prefixed [web1 api.1]
			width = max(width, len(h)+1+len(hostLabel(s)))
		}
		specs = append(specs, spec)
	}
	log := con.Lines(errOut)
	sup, err := service.New(service.Config{
		Services: specs,
		Log:      log,
		Connect:  connect,
		Output: func(svc string, replica int, label string) (io.Writer, io.Writer, func()) {
			o, eo, done := con.Host(svc, label, width, false)
			return o, eo, func() { done(output.End{}) }
		},
	})
	if err != nil {
		return err
	}
	// gotask ps, restart, stop and down, through the control socket;
	// down ends this up as Ctrl-C would.
	ctx, down := context.WithCancel(ctx)
	defer down()
	ctrl := newControlled(sup)
	serving := make(chan error, 1)
	serveCtx, stopServing := context.WithCancel(context.Background())
	go func() { serving <- (&service.Server{Controller: ctrl, Down: down}).Serve(serveCtx, ctl.Listener()) }()
	defer func() {
		stopServing()
		<-serving
	}()
	// up's own lines go through a writer of their own: the supervisor
	// writes log from its goroutines.
	say := con.Lines(errOut)
	startErr := sup.Start(ctx, names...)
	if startErr != nil && ctx.Err() == nil {
		fmt.Fprintf(say, "gotask: up: %v\n", startErr)
	}
	if ready != nil {
		reportReady(ready, startErr, sup.Status())
	}
	if ctx.Err() == nil {
		fmt.Fprintf(say, "gotask: up: %s; %s\n", readyLine(chosenStatuses(sup.Status(), serviceNames(chosen))), stopHint(ready != nil))
	}
	for wait := true; wait; {
		ended := make(chan error, 1)
		go func() { ended <- sup.Wait() }()
		select {
		case <-ctx.Done():
			wait = false
		case <-ended:
			// Stopped by gotask stop: wait for gotask up to start
			// something again, or for down.
			if wait = ctrl.idle(); wait {
				select {
				case <-ctx.Done():
					wait = false
				case <-ctrl.started:
				}
			}
		}
	}
	before := sup.Status() // the uptimes, before the processes end
	if last := ctrl.beforeStop(); last != nil {
		before = last // gotask down stopped them
	}
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
	first := &task.ServiceCommand{} // none on hosts: watch is refused there
	if len(s.Hosts) == 0 {
		first, err = e.ServiceCommand(ctx, s, 1) // where watch patterns start: the service's dir
		if err != nil {
			return service.Spec{}, err
		}
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
		if st.Label != "" {
			labels[i] = st.Label
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
		fmt.Fprintf(&b, "  %-*s  %-7s  restarts %-3d  last %-12s  up %s", width, labels[i], state, st.Restarts, last, up)
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

// stopOnHangUp returns a context that ends when the terminal hangs up
// (SIGHUP) or the reader of up's output goes away (SIGPIPE: gotask up |
// head): up then stops its services as on Ctrl-C, rather than dying and
// leaving them running. Both stay caught for the rest of up's life, so
// that writing its last lines to a closed pipe cannot kill it half way.
func stopOnHangUp(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP, syscall.SIGPIPE)
	go func() {
		select {
		case <-hup:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx
}
