package task

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotask/gotask/internal/fingerprint"
)

// Service is a long-running process of tasks.toml ([services.NAME]), as
// loaded: package service supervises it, and `gotask up` starts it. Its
// fields hold the values written, defaults filled in.
type Service struct {
	// Name is the service's full name: "api", or "web:api" for
	// [services.api] in the file included as web.
	Name string
	Help string
	// Run is the command of each instance, with {{.name}} placeholders
	// ({{.replica}} is the instance's number); see Executor.ServiceCommand.
	Run string
	// Replicas is how many instances run (1 unless written).
	Replicas int
	// Restart is "on-failure" (the default), "always" or "no".
	Restart string
	// Backoff (1s) doubles per crash up to MaxBackoff (30s).
	Backoff, MaxBackoff time.Duration
	// MaxRestarts (5) crashes within 5 minutes fail the instance.
	MaxRestarts int
	// Ready is the ready check: one of its fields, or none.
	Ready ServiceReady
	// StopSignal ("TERM") goes to the process group; KILL follows after
	// StopGrace (10s).
	StopSignal string
	StopGrace  time.Duration
	// RecycleRSS (bytes) and RecycleAfter, when not zero, recycle an
	// instance (restart_when).
	RecycleRSS   uint64
	RecycleAfter time.Duration
	// Watch lists the patterns (relative to Dir, as a task's sources)
	// of the files whose change restarts the service.
	Watch []string
	// Deps are tasks (run first, once) and services (ready first).
	Deps []string
	// Nice is the niceness of the processes; 0 leaves it.
	Nice int
	// Env and Dir are as a task's.
	Env map[string]string
	Dir string
	// Hosts are the hosts (or @groups, or group names) the service runs
	// on, as a task's hosts; empty means this machine. See
	// Executor.ServiceHosts.
	Hosts []string

	pos  pos
	file string
	ns   string // the include it came from ("web"); "" for the top file
	base string // where its relative paths start; "" for Registry.Dir
}

// Namespace returns the namespace of a service from an included file
// ("web" for "web:api"), or "" for a service of the top file.
func (s *Service) Namespace() string { return s.ns }

// task returns a task standing for s where a task's rendering applies
// (its command, dir, env and hosts).
func (s *Service) task() *Task {
	return &Task{Name: s.Name, Env: s.Env, Dir: s.Dir, Hosts: s.Hosts, pos: s.pos, file: s.file, ns: s.ns, base: s.base}
}

// ServiceReady is a service's ready check: at most one field is set.
type ServiceReady struct {
	HTTP string // a URL answering 2xx or 3xx
	TCP  string // a host:port accepting connections
	Sh   string // a command exiting 0
}

// ServiceVerbs are the words that `gotask` takes as service commands, as
// the first word of its command line, in a project that has services:
// no task there may be called so.
var ServiceVerbs = []string{"up", "ps", "restart", "stop", "logs", "down"}

// Service defaults, as the README documents them.
const (
	DefaultBackoff     = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultMaxRestarts = 5
	DefaultStopGrace   = 10 * time.Second
)

type rawService struct {
	Help        string          `toml:"help"`
	Run         string          `toml:"run"`
	Replicas    *int            `toml:"replicas"`
	Restart     string          `toml:"restart"`
	Backoff     string          `toml:"backoff"`
	MaxBackoff  string          `toml:"max_backoff"`
	MaxRestarts *int            `toml:"max_restarts"`
	Ready       *rawReady       `toml:"ready"`
	StopSignal  string          `toml:"stop_signal"`
	StopGrace   string          `toml:"stop_grace"`
	RestartWhen *rawRestartWhen `toml:"restart_when"`
	Watch       []string        `toml:"watch"`
	Deps        []string        `toml:"deps"`
	Nice        *int            `toml:"nice"`
	Env         map[string]any  `toml:"env"`
	Dir         string          `toml:"dir"`
	Hosts       any             `toml:"hosts"`
}

type rawReady struct {
	HTTP string `toml:"http"`
	TCP  string `toml:"tcp"`
	Sh   string `toml:"sh"`
}

type rawRestartWhen struct {
	RSS   string `toml:"rss"`
	After string `toml:"after"`
}

// stopSignals are the stop_signal values accepted.
var stopSignals = []string{"TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2"}

// services converts the [services] of a file.
func (c *converter) services(raw map[string]rawService, r *Registry) {
	if len(raw) == 0 {
		return
	}
	if r.services == nil {
		r.services = map[string]*Service{}
	}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		rs := raw[name]
		at := pos{}.child("services", -1).child(name, -1)
		s := c.service(at, name, &rs, r)
		if s == nil {
			continue
		}
		if old, ok := r.services[s.Name]; ok {
			c.fail(at, "service %q is already defined in %s; give one of them another name", s.Name, old.file)
			continue
		}
		r.services[s.Name] = s
	}
}

// service converts one [services.NAME].
func (c *converter) service(at pos, name string, raw *rawService, r *Registry) *Service {
	// In an included file, as its tasks: [services.api] in the file
	// included as web is web:api; a dep names a task or service of the
	// same file ("build" is web:build), or of the top file with a
	// leading ':'; dir starts from the included file's directory.
	what := "service " + strconv.Quote(c.ns+name)
	s := &Service{Name: c.ns + name, Help: raw.Help, Run: raw.Run, Replicas: 1, Restart: "on-failure",
		Backoff: DefaultBackoff, MaxBackoff: DefaultMaxBackoff, MaxRestarts: DefaultMaxRestarts,
		StopSignal: "TERM", StopGrace: DefaultStopGrace, Watch: raw.Watch, Deps: c.refs(raw.Deps), Dir: raw.Dir,
		pos: at, file: c.file, ns: strings.TrimSuffix(c.ns, ":"), base: c.base}
	if !validServiceName(name) {
		c.fail(at, "%s: a service name is letters, digits, '-' and '_', like api (no '.', which numbers replicas, nor ':', which names includes)", what)
	}
	if strings.TrimSpace(raw.Run) == "" {
		c.fail(at, "%s has no run command; write run = \"...\"", what)
	}
	if raw.Replicas != nil {
		s.Replicas = *raw.Replicas
		if s.Replicas < 1 || s.Replicas > 1000 {
			c.fail(at.child("replicas", -1), "%s: replicas must be a number from 1 to 1000", what)
		}
	}
	if raw.Restart != "" {
		s.Restart = raw.Restart
		if !slices.Contains([]string{"always", "on-failure", "no"}, raw.Restart) {
			c.fail(at.child("restart", -1), "%s: restart must be \"always\", \"on-failure\" or \"no\", not %q", what, raw.Restart)
		}
	}
	dur := func(key, v string, into *time.Duration) {
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if v == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 {
			c.fail(at.child(key, -1), "%s: %s %q is not a duration like \"500ms\", \"1s\" or \"5m\"", what, key, v)
			return
		}
		*into = d
	}
	dur("backoff", raw.Backoff, &s.Backoff)
	dur("max_backoff", raw.MaxBackoff, &s.MaxBackoff)
	dur("stop_grace", raw.StopGrace, &s.StopGrace)
	if raw.MaxRestarts != nil {
		s.MaxRestarts = *raw.MaxRestarts
		if s.MaxRestarts < 0 {
			c.fail(at.child("max_restarts", -1), "%s: max_restarts must be 0 or more", what)
		}
	}
	if raw.Ready != nil {
		s.Ready = ServiceReady{HTTP: raw.Ready.HTTP, TCP: raw.Ready.TCP, Sh: raw.Ready.Sh}
		n := 0
		for _, v := range []string{s.Ready.HTTP, s.Ready.TCP, s.Ready.Sh} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			c.fail(at.child("ready", -1), "%s: ready takes one check: { http = \"http://127.0.0.1:8080/health\" }, { tcp = \"127.0.0.1:8080\" } or { sh = \"command\" }", what)
		}
		if h := s.Ready.HTTP; h != "" && !strings.HasPrefix(h, "http://") && !strings.HasPrefix(h, "https://") {
			c.fail(at.child("ready", -1).child("http", -1), "%s: ready.http %q must be a URL starting with http:// or https://", what, h)
		}
	}
	if raw.StopSignal != "" {
		sig := strings.TrimPrefix(raw.StopSignal, "SIG")
		if !slices.Contains(stopSignals, sig) {
			c.fail(at.child("stop_signal", -1), "%s: stop_signal must be one of %s, not %q", what, strings.Join(stopSignals, ", "), raw.StopSignal)
		}
		s.StopSignal = sig
	}
	if w := raw.RestartWhen; w != nil {
		if w.RSS != "" {
			n, err := ParseSize(w.RSS)
			if err != nil || n == 0 {
				c.fail(at.child("restart_when", -1).child("rss", -1), "%s: restart_when.rss %q is not a size like \"500MB\" or \"2GB\"", what, w.RSS)
			}
			s.RecycleRSS = n
		}
		if w.After != "" {
			d, err := time.ParseDuration(w.After)
			if err != nil || d <= 0 {
				c.fail(at.child("restart_when", -1).child("after", -1), "%s: restart_when.after %q is not a duration like \"12h\" or \"30m\"", what, w.After)
			}
			s.RecycleAfter = d
		}
		if w.RSS == "" && w.After == "" {
			c.fail(at.child("restart_when", -1), "%s: restart_when needs rss = \"500MB\" or after = \"12h\" (or both)", what)
		}
	}
	for i, p := range raw.Watch {
		if strings.TrimSpace(strings.TrimPrefix(p, "!")) == "" {
			c.fail(at.child("watch", i), "%s: watch pattern %d is empty", what, i+1)
		} else if _, err := fingerprint.NewMatcher([]string{p}); err != nil {
			c.fail(at.child("watch", i), "%s: watch: %v", what, err)
		}
	}
	if raw.Watch != nil && len(raw.Watch) == 0 {
		c.fail(at.child("watch", -1), "%s: watch is empty; list patterns like [\"**/*.go\", \"!**/*_test.go\"], or remove it", what)
	}
	if raw.Nice != nil {
		s.Nice = *raw.Nice
		if s.Nice < -20 || s.Nice > 19 {
			c.fail(at.child("nice", -1), "%s: nice must be from -20 to 19", what)
		}
	}
	switch v := raw.Hosts.(type) {
	case nil:
	case string:
		s.Hosts = []string{v}
	case []any:
		hosts, ok := strings_(v)
		if !ok || len(hosts) == 0 {
			c.fail(at.child("hosts", -1), "%s: hosts must be a group name or a non-empty list of hosts", what)
		}
		s.Hosts = hosts
	default:
		c.fail(at.child("hosts", -1), "%s: hosts must be a group name or a list of hosts", what)
	}
	if len(s.Hosts) > 0 {
		// What a supervisor can only do on this machine.
		if raw.RestartWhen != nil && raw.RestartWhen.RSS != "" {
			c.fail(at.child("restart_when", -1).child("rss", -1), "%s: restart_when.rss is not yet supported for services on hosts (after is); remove it or hosts", what)
		}
		if raw.Watch != nil {
			c.fail(at.child("watch", -1), "%s: watch is not yet supported for services on hosts: it watches this machine's files; remove it or hosts", what)
		}
		if s.Nice != 0 {
			c.fail(at.child("nice", -1), "%s: nice is not yet supported for services on hosts; remove it or hosts", what)
		}
	}
	s.Env = c.env(at.child("env", -1), name, raw.Env)
	// Placeholders: vars, computed vars and {{.replica}}; on hosts also
	// {{.host}} and host vars.
	check := func(p pos, v string) {
		ns, err := names(v)
		if err != nil {
			c.fail(p, "%s: %v", what, err)
			return
		}
		for _, n := range ns {
			if _, ok := r.Vars[n]; ok || r.ComputedVars[n] != "" || n == "replica" {
				continue
			}
			if len(s.Hosts) > 0 && (n == "host" || r.IsHostVar(n)) {
				continue
			}
			c.fail(p, "%s: {{.%s}} is not a var or {{.replica}}; declare it under [vars]", what, n)
		}
	}
	check(at.child("run", -1), s.Run)
	check(at.child("dir", -1), s.Dir)
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		check(at.child("env", -1).child(k, -1), s.Env[k])
	}
	check(at.child("ready", -1).child("http", -1), s.Ready.HTTP)
	check(at.child("ready", -1).child("tcp", -1), s.Ready.TCP)
	check(at.child("ready", -1).child("sh", -1), s.Ready.Sh)
	return s
}

// validServiceName reports whether s may name a service in its file: a
// task's name without '.' and ':', so that api.2 is always replica 2 of
// api and web:api always the api of the file included as web.
func validServiceName(s string) bool {
	return validName(s) && !strings.ContainsAny(s, ".:")
}

// ParseSize parses a memory size: a whole number with an optional unit
// B, KB, MB, GB or TB (powers of 1024; K, M, G, T, KiB, MiB... too).
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("%q is not a size like 500MB", s)
	}
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "IB"), "B")
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}
	sh, ok := shift[unit]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit; use B, KB, MB, GB or TB", s)
	}
	return uint64(v * float64(uint64(1)<<sh)), nil
}

// Services returns the services of tasks.toml, by name.
func (r *Registry) Services() []*Service {
	out := make([]*Service, 0, len(r.services))
	for _, name := range slices.Sorted(maps.Keys(r.services)) {
		out = append(out, r.services[name])
	}
	return out
}

// Service returns the service called name.
func (r *Registry) Service(name string) (*Service, bool) {
	s, ok := r.services[name]
	return s, ok
}

// checkServices checks what needs every task and service loaded: each
// dep names a task or a service, services' deps have no cycle, no
// service has a task's name, and, in a project with services, no task
// is called (or aliased) like a service verb.
func (r *Registry) checkServices() []error {
	if len(r.services) == 0 {
		return nil
	}
	var errs []error
	fail := func(s *Service, p pos, format string, args ...any) {
		errs = append(errs, &LoadError{File: s.file, Msg: fmt.Sprintf(format, args...), path: p.path})
	}
	for _, t := range r.Tasks() {
		for i, n := range append([]string{t.Name}, t.Aliases...) {
			if slices.Contains(ServiceVerbs, n) {
				word, at := "called", t.pos
				if i > 0 {
					word, at = "aliased", t.pos.child("aliases", i-1)
				}
				errs = append(errs, t.errorAt(at, fmt.Sprintf(
					"task %q is %s %q, a service command (gotask %s) in a project with [services]; rename it", t.Name, word, n, n)))
			}
		}
	}
	for _, s := range r.Services() {
		if _, ok := r.Lookup(s.Name); ok {
			fail(s, s.pos, "service %q has the name of a task; give one of them another name", s.Name)
		}
		for i, d := range s.Deps {
			_, isTask := r.Lookup(d)
			_, isService := r.services[d]
			if !isTask && !isService && !r.Partial {
				msg := fmt.Sprintf("service %q: unknown dependency %q: no task or service has that name", s.Name, d)
				if m := closest(d, append(r.names(), slices.Collect(maps.Keys(r.services))...)); m != "" {
					msg += fmt.Sprintf("; did you mean %q?", m)
				}
				fail(s, s.pos.child("deps", i), "%s", msg)
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(s *Service, path []string) error
	visit = func(s *Service, path []string) error {
		switch state[s.Name] {
		case visiting:
			i := slices.Index(path, s.Name)
			return &LoadError{File: s.file, path: s.pos.child("deps", -1).path,
				Msg: fmt.Sprintf("services depend on each other in a cycle: %s", strings.Join(append(path[i:], s.Name), " -> "))}
		case done:
			return nil
		}
		state[s.Name] = visiting
		for _, d := range s.Deps {
			if ds, ok := r.services[d]; ok {
				if err := visit(ds, append(path, s.Name)); err != nil {
					return err
				}
			}
		}
		state[s.Name] = done
		return nil
	}
	for _, s := range r.Services() {
		if err := visit(s, nil); err != nil {
			return []error{err}
		}
	}
	return nil
}

// ServiceCommand is what an instance of a service runs, rendered for one
// replica.
type ServiceCommand struct {
	// Line is the command line, its values quoted for their place in it.
	Line string
	// Dir is the absolute working directory.
	Dir string
	// Env holds the "KEY=value" entries to add to the environment:
	// [env], dotenv files, the service's env, --env, and GOTASK_REPLICA.
	Env []string
	// Ready is the ready check with its values in place: Sh is rendered
	// as Line is; HTTP and TCP are plain text.
	Ready ServiceReady
}

// ServiceCommand renders the command of replica (1..Replicas) of s with
// the registry's values: each value stands as its literal text wherever
// it is placed in the shell command (as in a task's run), {{.replica}}
// is the replica's number, and $GOTASK_REPLICA is set to it. Computed
// vars run at most once per call.
func (e *Executor) ServiceCommand(ctx context.Context, s *Service, replica int) (*ServiceCommand, error) {
	return e.ServiceCommandOn(ctx, s, "", replica)
}

// ServiceHost is one host a service runs on.
type ServiceHost struct {
	Name string // as written (or listed in its group): {{.host}}, output, status
	Addr string // what to connect to: Name with its group's user and port
}

// ServiceHosts resolves the hosts s runs on: its groups expanded, --only
// and --exclude (Executor.Only, Exclude) applied. None for a service of
// this machine.
func (e *Executor) ServiceHosts(s *Service) ([]ServiceHost, error) {
	if len(s.Hosts) == 0 {
		return nil, nil
	}
	x := e.newExecution()
	tgs, err := x.targets(s.task(), nil)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", s.Name, err)
	}
	out := make([]ServiceHost, len(tgs))
	for i, tg := range tgs {
		out[i] = ServiceHost{Name: tg.name, Addr: tg.addr}
	}
	return out, nil
}

// ServiceCommandOn renders the command of replica of s on host (a
// ServiceHost's Name; "" for this machine) as ServiceCommand does, with
// {{.host}} and the host's vars too. On a host, Dir is the service's dir
// as written (a path on the host; "" for the login directory); Env is
// the same list, for the host's environment.
func (e *Executor) ServiceCommandOn(ctx context.Context, s *Service, host string, replica int) (*ServiceCommand, error) {
	t := s.task()
	t.Hosts = nil
	x := e.newExecution()
	x.ctx = ctx
	sc := &scope{e: x, t: t, args: map[string]any{"replica": replica}, host: host}
	fail := func(err error) (*ServiceCommand, error) {
		var le *LoadError
		if errors.As(err, &le) {
			le.Msg = strings.Replace(le.Msg, fmt.Sprintf("task %q", s.Name), fmt.Sprintf("service %q", s.Name), 1)
			return nil, le
		}
		return nil, fmt.Errorf("service %s: %w", s.Name, err)
	}
	c, err := sc.command(s.Run, s.pos.child("run", -1), nil)
	if err != nil {
		return fail(err)
	}
	out := &ServiceCommand{Line: c.line, Dir: joinDir(t.dirIn(e.Registry), c.dir)}
	if host != "" {
		out.Dir = c.dir
	}
	for _, k := range slices.Sorted(maps.Keys(c.env)) {
		out.Env = append(out.Env, k+"="+c.env[k])
	}
	out.Env = append(out.Env, "GOTASK_REPLICA="+strconv.Itoa(replica))
	if s.Ready.Sh != "" {
		rc, err := sc.command(s.Ready.Sh, s.pos.child("ready", -1).child("sh", -1), nil)
		if err != nil {
			return fail(err)
		}
		out.Ready.Sh = rc.line
	}
	for _, f := range []struct {
		in, key string
		out     *string
	}{
		{s.Ready.HTTP, "http", &out.Ready.HTTP}, {s.Ready.TCP, "tcp", &out.Ready.TCP},
	} {
		if *f.out, err = expand(f.in, sc.lookup); err != nil {
			return fail(fmt.Errorf("ready.%s: %w", f.key, err))
		}
	}
	return out, nil
}
