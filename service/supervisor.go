package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gotask/gotask/internal/watch"
)

// Supervisor runs the instances of services and keeps them running. Make
// one with New; it is safe for concurrent use.
type Supervisor struct {
	cfg      Config
	services map[string]*svc
	order    []string // every service, deps before dependants
	cgParent string   // where instances' cgroups are made; "" for none

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every change of state
	logMu   sync.Mutex

	hurry     chan struct{} // closed by Kill: stop graces end at once
	hurryOnce sync.Once

	groups groupScan // shared by the restart_when.rss checks without a cgroup
}

// svc is one service and its instances.
type svc struct {
	spec      Spec
	instances []*instance

	// Guarded by the supervisor's mu:
	watcher  *watch.Watcher // while the service runs, when it has Watch
	unwatch  func()         // cancels the watcher's restarts
	stopping bool           // Stop was asked last (not Start): nothing may start it again on its own
}

// instance is one replica of a service. Its fields are guarded by the
// supervisor's mu.
type instance struct {
	s       *svc
	replica int
	host    string // "" for this machine
	label   string

	state    State
	pid      int
	since    time.Time
	restarts int
	recycles int
	lastExit string
	err      error // why it failed, when it did

	running  bool          // its loop runs
	wasReady bool          // it has been ready since its loop started
	stop     chan struct{} // closed to ask the loop to stop
	done     chan struct{} // closed when the loop has ended
	kick     chan string   // a graceful restart of the current process, and why
	gen      int           // counts the processes started, for Restart's wait
}

// New checks cfg and returns a Supervisor that has started nothing.
func New(cfg Config) (*Supervisor, error) {
	s := &Supervisor{cfg: cfg, services: map[string]*svc{}, changed: make(chan struct{}), hurry: make(chan struct{})}
	for _, spec := range cfg.Services {
		if spec.Name == "" || spec.Command == nil && spec.HostCommand == nil {
			return nil, fmt.Errorf("service %q: a name and a Command are required", spec.Name)
		}
		if len(spec.Hosts) > 0 && cfg.Connect == nil {
			return nil, fmt.Errorf("service %q: runs on hosts, and Config.Connect is nil", spec.Name)
		}
		if _, dup := s.services[spec.Name]; dup {
			return nil, fmt.Errorf("service %q is defined twice", spec.Name)
		}
		spec = spec.withDefaults()
		v := &svc{spec: spec}
		hosts := spec.Hosts
		if len(hosts) == 0 {
			hosts = []string{""}
		}
		for _, h := range hosts {
			for r := 1; r <= spec.Replicas; r++ {
				label := spec.Name
				if spec.Replicas > 1 {
					label = fmt.Sprintf("%s.%d", spec.Name, r)
				}
				if h != "" {
					label = h + " " + label
				}
				v.instances = append(v.instances, &instance{s: v, replica: r, host: h, label: label, state: Stopped})
			}
		}
		s.services[spec.Name] = v
	}
	order, err := s.sortDeps()
	if err != nil {
		return nil, err
	}
	s.order = order
	if !cfg.NoCgroup {
		s.cgParent = cgroupParent()
		if s.cgParent != "" {
			reapOrphans(s.cgParent)
		}
	}
	return s, nil
}

// sortDeps orders the services deps first, ties by the order given.
func (s *Supervisor) sortDeps() ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("services depend on each other in a cycle: %s", strings.Join(append(path, name), " -> "))
		case 2:
			return nil
		}
		state[name] = 1
		for _, d := range s.services[name].spec.Deps {
			if _, ok := s.services[d]; !ok {
				return fmt.Errorf("service %q depends on unknown service %q", name, d)
			}
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, name)
		return nil
	}
	for _, spec := range s.cfg.Services {
		if err := visit(spec.Name, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// Status returns every instance's status, in start order.
func (s *Supervisor) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for _, name := range s.order {
		for _, in := range s.services[name].instances {
			st := Status{Service: name, Replica: in.replica, Host: in.host, Label: in.label, Pid: in.pid, State: in.state,
				Since: in.since, Restarts: in.restarts, Recycles: in.recycles, LastExit: in.lastExit}
			if in.err != nil {
				st.Error = in.err.Error()
			}
			out = append(out, st)
		}
	}
	return out
}

// closure returns names and the services they depend on, in start order;
// none means all.
func (s *Supervisor) closure(names []string) ([]string, error) {
	if len(names) == 0 {
		return slices.Clone(s.order), nil
	}
	want := map[string]bool{}
	var add func(n string)
	add = func(n string) {
		if want[n] {
			return
		}
		want[n] = true
		for _, d := range s.services[n].spec.Deps {
			add(d)
		}
	}
	for _, n := range names {
		if _, ok := s.services[n]; !ok {
			return nil, s.unknown(n)
		}
		add(n)
	}
	var out []string
	for _, n := range s.order {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func (s *Supervisor) unknown(name string) error {
	return fmt.Errorf("no service %q; the services are %s", name, strings.Join(s.order, ", "))
}

// Start starts the named services (none: all) and the services they
// depend on, each after its deps are ready, and waits until every
// instance of them is ready. Instances already running are left as they
// are. A service that cannot become ready (it failed, or a dep did) does
// not stop the others: Start starts every service it can and returns
// the errors of the rest.
func (s *Supervisor) Start(ctx context.Context, names ...string) error {
	order, err := s.closure(names)
	if err != nil {
		return err
	}
	var errs []error
	bad := map[string]bool{}
	for _, name := range order {
		v := s.services[name]
		var missing []string
		for _, d := range v.spec.Deps {
			if bad[d] {
				missing = append(missing, d)
			}
		}
		if len(missing) > 0 {
			bad[name] = true
			errs = append(errs, fmt.Errorf("service %s: not started: %s did not become ready", name, strings.Join(missing, ", ")))
			continue
		}
		s.mu.Lock()
		v.stopping = false
		for _, in := range v.instances {
			if !in.running {
				s.launch(in)
			}
		}
		werr := s.watch(v)
		s.mu.Unlock()
		if werr != nil {
			bad[name] = true
			errs = append(errs, werr)
			continue
		}
		if err := s.waitReady(ctx, v); err != nil {
			bad[name] = true
			errs = append(errs, err)
			if ctx.Err() != nil {
				return errors.Join(errs...)
			}
		}
	}
	return errors.Join(errs...)
}

// waitReady waits until every instance of v is ready, or one of them
// has ended for good.
func (s *Supervisor) waitReady(ctx context.Context, v *svc) error {
	return s.wait(ctx, func() (bool, error) {
		ready := true
		for _, in := range v.instances {
			if in.wasReady {
				continue // it may have ended since: a one-shot service
			}
			switch in.state {
			case Ready:
			case Failed, Stopped:
				if !in.running {
					why := in.lastExit
					if in.err != nil {
						why = in.err.Error()
					}
					return true, fmt.Errorf("service %s: %s %s before it was ready (%s)", v.spec.Name, in.label, in.state, why)
				}
				ready = false
			default:
				ready = false
			}
		}
		return ready, nil
	})
}

// wait calls cond under s.mu at every change of state until it says
// done, or ctx ends.
func (s *Supervisor) wait(ctx context.Context, cond func() (bool, error)) error {
	for {
		s.mu.Lock()
		done, err := cond()
		ch := s.changed
		s.mu.Unlock()
		if done {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// notify wakes everything waiting on a change. Call with s.mu held.
func (s *Supervisor) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// launch starts in's loop. Call with s.mu held.
func (s *Supervisor) launch(in *instance) {
	in.running = true
	in.stop = make(chan struct{})
	in.done = make(chan struct{})
	in.state = Starting
	in.err, in.wasReady = nil, false
	s.notify()
	go s.loop(in, in.stop, in.done)
}

// Stop stops the named services (none: all), dependants before their
// deps, each instance with its stop signal and then SIGKILL after its
// grace, and waits until they are gone (or ctx ends).
func (s *Supervisor) Stop(ctx context.Context, names ...string) error {
	order := slices.Clone(s.order)
	if len(names) > 0 {
		order = order[:0]
		for _, n := range s.order {
			if slices.Contains(names, n) {
				order = append(order, n)
			}
		}
		for _, n := range names {
			if _, ok := s.services[n]; !ok {
				return s.unknown(n)
			}
		}
	}
	slices.Reverse(order)
	for _, name := range order {
		var dones []chan struct{}
		s.mu.Lock()
		v := s.services[name]
		v.stopping = true
		if v.watcher != nil {
			v.unwatch() // calls off a restart it began
			_ = v.watcher.Close()
			v.watcher, v.unwatch = nil, nil
		}
		for _, in := range v.instances {
			if in.running {
				select {
				case <-in.stop:
				default:
					close(in.stop)
				}
				dones = append(dones, in.done)
			}
		}
		s.mu.Unlock()
		for _, d := range dones {
			select {
			case <-d:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
	}
	return nil
}

// Kill cuts every stop short, now and later: an instance being stopped,
// or stopped from now on, is killed (SIGKILL to its group and cgroup)
// without waiting for its stop_grace. For a second Ctrl-C. It does not
// stop anything by itself: call Stop too.
func (s *Supervisor) Kill() {
	s.hurryOnce.Do(func() { close(s.hurry) })
}

// Restart restarts the named services (none: all) one instance at a
// time: each is stopped gracefully and started again, and the next one
// waits until it is ready, so that a service of several replicas always
// has one ready. An instance not running is started.
func (s *Supervisor) Restart(ctx context.Context, names ...string) error {
	order, err := s.closure(names)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		order = slices.DeleteFunc(order, func(n string) bool { return !slices.Contains(names, n) })
	}
	for _, name := range order {
		for _, in := range s.services[name].instances {
			if err := s.restartOne(ctx, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// restartOne restarts in and waits until its new process is ready.
func (s *Supervisor) restartOne(ctx context.Context, in *instance) error {
	s.mu.Lock()
	gen := in.gen
	switch {
	case in.s.stopping && !in.running:
		s.mu.Unlock()
		return fmt.Errorf("service %s: stopped; start it first", in.s.spec.Name)
	case !in.running:
		s.launch(in)
	case in.kick != nil:
		select {
		case in.kick <- "restart asked":
		default: // one is on its way already
		}
	}
	s.mu.Unlock()
	return s.wait(ctx, func() (bool, error) {
		switch {
		case in.gen > gen && in.state == Ready:
			return true, nil
		case !in.running:
			return true, fmt.Errorf("service %s: %s %s while restarting (%s)", in.s.spec.Name, in.label, in.state, in.lastExit)
		}
		return false, nil
	})
}

// Wait returns when no instance is running any more: all were stopped,
// or ended and not restarted. Its error names the instances that failed.
func (s *Supervisor) Wait() error {
	_ = s.wait(context.Background(), func() (bool, error) {
		for _, v := range s.services {
			for _, in := range v.instances {
				if in.running {
					return false, nil
				}
			}
		}
		return true, nil
	})
	var errs []error
	for _, st := range s.Status() {
		if st.State == Failed {
			label := st.Label
			why := st.Error
			if why == "" {
				why = st.LastExit
			}
			errs = append(errs, fmt.Errorf("service %s failed: %s", label, why))
		}
	}
	return errors.Join(errs...)
}

// logf writes one line of the supervisor's own to cfg.Log.
func (s *Supervisor) logf(in *instance, format string, args ...any) {
	if s.cfg.Log == nil {
		return
	}
	line := fmt.Sprintf("gotask: %s: "+format+"\n", append([]any{in.label}, args...)...)
	s.logMu.Lock()
	defer s.logMu.Unlock()
	_, _ = io.WriteString(s.cfg.Log, line)
}

// set changes in's state (and more, through f) and wakes the waiters.
func (s *Supervisor) set(in *instance, state State, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in.state = state
	if f != nil {
		f()
	}
	s.notify()
}

// loop runs one instance until it is stopped, fails, or ends for good.
func (s *Supervisor) loop(in *instance, stop, done chan struct{}) {
	spec := in.s.spec
	defer func() {
		s.mu.Lock()
		in.running, in.pid, in.since, in.kick = false, 0, time.Time{}, nil
		close(done)
		s.notify()
		s.mu.Unlock()
	}()
	stdout, stderr, outDone := io.Writer(nil), io.Writer(nil), func() {}
	if s.cfg.Output != nil {
		stdout, stderr, outDone = s.cfg.Output(spec.Name, in.replica, in.label)
		if outDone == nil {
			outDone = func() {}
		}
	}
	defer outDone()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()

	backoff := spec.Backoff
	var crashes []time.Time
	// again counts a crash (why, after up time up): false when that is
	// one too many (max_restarts) and in has failed; else it waits the
	// backoff (or until stopped) for the next start.
	again := func(why string, up time.Duration) bool {
		if up >= spec.ResetAfter {
			backoff = spec.Backoff
		}
		now := time.Now()
		crashes = append(crashes, now)
		crashes = slices.DeleteFunc(crashes, func(t time.Time) bool { return now.Sub(t) > spec.RestartWindow })
		if limit := max(spec.MaxRestarts, 0); len(crashes) > limit {
			err := fmt.Errorf("%s; gave up after %d restarts in %s (max_restarts)", why, limit, spec.RestartWindow)
			s.set(in, Failed, func() { in.err = err })
			s.logf(in, "failed: %v", err)
			return false
		}
		s.set(in, Restarting, nil)
		s.logf(in, "%s; restarting in %s", why, backoff)
		if backoff > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		backoff = min(max(backoff*2, backoff), spec.MaxBackoff)
		return true
	}
	first := true
	for {
		if ctx.Err() != nil {
			s.set(in, Stopped, nil)
			return
		}
		cmd, err := s.command(ctx, in)
		if err != nil {
			s.set(in, Failed, func() { in.err = err })
			s.logf(in, "failed: %v", err)
			return
		}
		p, err := s.spawn(ctx, in, cmd, stdout, stderr)
		if err != nil && ctx.Err() != nil {
			s.set(in, Stopped, nil) // stopped while connecting to its host
			return
		}
		if err != nil && !first && spec.Restart != Never {
			// A restart that cannot start (its host rebooting, say) is
			// one more crash: tried again after the backoff, up to
			// max_restarts. The first start fails at once: a host that
			// cannot be reached at up is a mistake to report.
			if !again("cannot start: "+err.Error(), 0) {
				return
			}
			continue
		}
		if err != nil {
			s.set(in, Failed, func() { in.err = err })
			s.logf(in, "failed: %v", err)
			return
		}
		kick := make(chan string, 1)
		state := Running
		if cmd.Ready == (ReadyCheck{}) {
			state = Ready // no check: ready as soon as it runs
		}
		s.set(in, state, func() {
			in.wasReady = in.wasReady || state == Ready
			in.pid, in.since, in.kick = p.pid, p.start, kick
			in.gen++
			if !first {
				in.restarts++
			}
		})
		first = false
		s.logf(in, "started (pid %d)", p.pid)
		if state == Ready {
			s.logf(in, "ready")
		}

		watchCtx, stopWatch := context.WithCancel(ctx)
		go s.checkReady(watchCtx, in, p, cmd)
		go s.checkLimits(watchCtx, in, p, kick)

		recycled := ""
		select {
		case <-p.exited:
		case <-ctx.Done():
			p.terminate(spec.StopSignal, spec.StopGrace, s.hurry)
		case recycled = <-kick:
			s.set(in, Restarting, nil)
			s.logf(in, "%s: stopping pid %d", recycled, p.pid)
			p.terminate(spec.StopSignal, spec.StopGrace, s.hurry)
		}
		stopWatch()
		p.cleanup()
		exit := p.exitString()
		up := time.Since(p.start)
		s.mu.Lock()
		in.pid, in.since, in.lastExit, in.kick = 0, time.Time{}, exit, nil
		s.mu.Unlock()

		switch {
		case ctx.Err() != nil:
			s.set(in, Stopped, nil)
			s.logf(in, "stopped (%s)", exit)
			return
		case recycled != "":
			if strings.HasPrefix(recycled, "recycl") {
				s.mu.Lock()
				in.recycles++
				s.mu.Unlock()
			}
			continue // a recycle or an asked restart is no crash: no backoff
		}
		if spec.Restart == Never || spec.Restart == OnFailure && p.success() {
			state := Stopped
			if !p.success() {
				state = Failed
			}
			s.set(in, state, nil)
			s.logf(in, "%s (restart = %q)", exit, spec.Restart)
			return
		}
		if !again(exit, up) {
			return
		}
	}
}

// command renders the command of in's next process.
func (s *Supervisor) command(ctx context.Context, in *instance) (Command, error) {
	spec := in.s.spec
	if in.host != "" && spec.HostCommand != nil {
		return spec.HostCommand(ctx, in.host, in.replica)
	}
	if spec.Command == nil {
		return Command{}, fmt.Errorf("service %s has no Command for this machine", spec.Name)
	}
	return spec.Command(ctx, in.replica)
}

// spawn starts a process for in: on its host, or here in a cgroup of its
// own when it can.
func (s *Supervisor) spawn(ctx context.Context, in *instance, cmd Command, stdout, stderr io.Writer) (*process, error) {
	if in.host != "" {
		h, err := s.cfg.Connect(ctx, in.host)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", in.host, err)
		}
		p, err := startHostProcess(ctx, h, cmd, stdout, stderr)
		if err != nil {
			return nil, fmt.Errorf("host %s: start: %w", in.host, err)
		}
		return p, nil
	}
	var cg *cgroup
	if s.cgParent != "" {
		name := fmt.Sprintf("gotask-%d-%s-%s-%d", os.Getpid(), pidNamespace(), in.label, time.Now().UnixNano())
		cg, _ = newCgroup(s.cgParent, name) // none: the process group only
	}
	p, err := startProcess(cmd, in.s.spec.Nice, cg, stdout, stderr)
	if err != nil && cg != nil {
		cg.remove()
		p, err = startProcess(cmd, in.s.spec.Nice, nil, stdout, stderr)
	}
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	return p, nil
}

// Cgroups says whether instances get a cgroup each on this machine
// (Linux with a writable cgroup v2, as root), so that stopping one also
// reaches the processes that left its process group (setsid). Without,
// only the process group is signalled.
func Cgroups() bool { return cgroupParent() != "" }

// watch starts v's file watcher, if it has Watch patterns and none runs:
// each debounced change restarts v, one instance at a time. Call with
// s.mu held.
func (s *Supervisor) watch(v *svc) error {
	if len(v.spec.Watch) == 0 || v.watcher != nil {
		return nil
	}
	dir := v.spec.WatchDir
	if dir == "" {
		dir = "."
	}
	w, err := watch.New(dir, v.spec.Watch)
	if err != nil {
		return fmt.Errorf("service %s: watch: %w", v.spec.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.watcher, v.unwatch = w, cancel
	go func() {
		defer cancel()
		for change := range w.Events() {
			s.mu.Lock()
			current := v.watcher == w && !v.stopping
			s.mu.Unlock()
			if !current {
				continue
			}
			s.logLine(fmt.Sprintf("gotask: %s: watch: %s changed; restarting", v.spec.Name, change))
			if err := s.Restart(ctx, v.spec.Name); err != nil && ctx.Err() == nil {
				s.logLine(fmt.Sprintf("gotask: %s: watch: restart: %v", v.spec.Name, err))
			}
		}
		if err := w.Err(); err != nil {
			s.logLine(fmt.Sprintf("gotask: %s: watch stopped: %v", v.spec.Name, err))
		}
	}()
	return nil
}

// logLine writes one whole line of the supervisor's own to cfg.Log.
func (s *Supervisor) logLine(line string) {
	if s.cfg.Log == nil {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	_, _ = io.WriteString(s.cfg.Log, line+"\n")
}
