package task

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/gotask/gotask/runner"
)

// Tunnel is one of a task's TCP tunnels over a host's SSH connection
// (tasks.toml's forward and reverse, written "PORT:HOST:HOSTPORT"). Port
// is the port listened on, on the loopback address: this machine's for
// a forward (ssh -L), the host's for a reverse (ssh -R). Target is the
// "host:port" each connection is carried to, as the other side resolves
// it: the host for a forward, this machine for a reverse.
type Tunnel struct {
	Port   int
	Target string
}

// String writes t as tasks.toml does: "15432:localhost:5432".
func (t Tunnel) String() string { return strconv.Itoa(t.Port) + ":" + t.Target }

// ParseTunnel reads "PORT:HOST:HOSTPORT", as ssh's -L and -R take it
// without a bind address: both ports from 1 to 65535, HOST a host name
// or address (an IPv6 address in brackets, "[::1]") that CheckHost
// accepts, with no user.
func ParseTunnel(s string) (Tunnel, error) {
	bad := func(why string) (Tunnel, error) {
		return Tunnel{}, fmt.Errorf("tunnel %q %s; write PORT:HOST:PORT, like \"15432:localhost:5432\"", s, why)
	}
	port, rest, ok := strings.Cut(s, ":")
	if !ok {
		return bad("has no ':'")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 || port != strconv.Itoa(p) {
		return bad(fmt.Sprintf("listens on port %q, not a number from 1 to 65535", port))
	}
	host, hport, err := net.SplitHostPort(rest)
	if err != nil || host == "" {
		return bad("has no HOST:PORT after the first port")
	}
	if hp, err := strconv.Atoi(hport); err != nil || hp < 1 || hp > 65535 || hport != strconv.Itoa(hp) {
		return bad(fmt.Sprintf("goes to port %q, not a number from 1 to 65535", hport))
	}
	if strings.Contains(host, "@") {
		return bad("names a user; the target is a host and port only")
	}
	if err := CheckHost(host); err != nil {
		return bad(fmt.Sprintf("targets a host that could never be reached: %v", err))
	}
	return Tunnel{Port: p, Target: net.JoinHostPort(host, hport)}, nil
}

// checkTunnel checks a tunnel set from Go code the way ParseTunnel checks
// one read from tasks.toml.
func checkTunnel(t Tunnel) error {
	_, err := ParseTunnel(t.String())
	return err
}

// oneHostAtATime reports whether t's rolling batches hold a single host
// each (serial = 1, or every batch size 1).
func (t *Task) oneHostAtATime() bool {
	if len(t.Batches) > 0 {
		for _, b := range t.Batches {
			if b != "1" {
				return false
			}
		}
		return true
	}
	return t.Serial == 1
}

// errForwardHosts says why a forward cannot serve several hosts at once,
// and what to do.
func errForwardHosts(t *Task, hosts int) error {
	return fmt.Errorf("forward %s listens on one local port, which can carry to one host only, and the task runs on %d hosts at once; set serial = 1 to run them one after another, or give the task one host",
		t.Forward[0], hosts)
}

// checkTunnels is Validate's part for t's tunnels: each one well formed,
// hosts to carry them, and a forward never on several hosts at once when
// the hosts are known at load (a dynamic group's are known when the run
// starts, which checks again).
func (r *Registry) checkTunnels(t *Task) []error {
	var errs []error
	for _, kind := range []struct {
		key  string
		list []Tunnel
	}{{"forward", t.Forward}, {"reverse", t.Reverse}} {
		for i, tn := range kind.list {
			if err := checkTunnel(tn); err != nil {
				errs = append(errs, t.errorAt(t.pos.child(kind.key, i), fmt.Sprintf("task %q: %s: %v", t.Name, kind.key, err)))
			}
		}
		if len(kind.list) > 0 && len(t.Hosts) == 0 {
			errs = append(errs, t.errorAt(t.pos.child(kind.key, -1), fmt.Sprintf(
				"task %q: %s is a tunnel over a host's SSH connection, and the task runs here, on no host; give it hosts = [...], or remove %s",
				t.Name, kind.key, kind.key)))
		}
	}
	if len(t.Forward) == 0 || len(t.Hosts) == 0 || t.oneHostAtATime() {
		return errs
	}
	if n, known := r.staticHostCount(t.Hosts); known && n > 1 {
		errs = append(errs, t.errorAt(t.pos.child("forward", -1), fmt.Sprintf("task %q: %v", t.Name, errForwardHosts(t, n))))
	}
	return errs
}

// staticHostCount counts the distinct hosts that list names, as targets
// expands it; known is false when a dynamic group's hosts are not known
// yet.
func (r *Registry) staticHostCount(list []string) (n int, known bool) {
	seen := map[string]bool{}
	for _, entry := range list {
		name, _ := strings.CutPrefix(entry, "@")
		g, ok := r.Groups[name]
		switch {
		case ok && g.Command != "" && !g.loaded:
			return 0, false
		case ok:
			for _, h := range g.Hosts {
				seen[h] = true
			}
		default:
			seen[entry] = true
		}
	}
	return len(seen), true
}

// checkForwardHosts refuses, before anything of the run starts, a task
// of the run (one named, with -H's hosts, or one its deps, post tasks or
// steps reach) with a forward on several hosts at once: its hosts may be
// known only now, from -H or a dynamic group.
func (e *execution) checkForwardHosts(roots []*Task) error {
	seen := map[*Task]bool{}
	var visit func(t *Task, override []string) error
	visit = func(t *Task, override []string) error {
		if seen[t] && override == nil {
			return nil
		}
		seen[t] = true
		if len(t.Forward) > 0 && !t.oneHostAtATime() {
			// A targets error (an unknown group) is the run's to report.
			if targets, err := e.targets(t, override); err == nil && len(targets) > 1 {
				return &ArgError{Task: t.Name, Err: errForwardHosts(t, len(targets))}
			}
		}
		for _, name := range t.calls() {
			if u, err := e.Registry.Resolve(name); err == nil {
				if err := visit(u, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, t := range roots {
		if err := visit(t, e.Hosts); err != nil {
			return err
		}
	}
	return nil
}

// openTunnels opens the task's tunnels over r, the host's runner, and
// returns what closes them all; on error, those already open are closed.
// A dry run opens nothing and says what it would open.
func (s *scope) openTunnels(ctx context.Context) (func(), error) {
	t := s.t
	if len(t.Forward)+len(t.Reverse) == 0 {
		return func() {}, nil
	}
	if s.e.Dry {
		for _, tn := range t.Forward {
			s.note("# forward 127.0.0.1:%d here -> %s on %s\n", tn.Port, tn.Target, s.host)
		}
		for _, tn := range t.Reverse {
			s.note("# reverse 127.0.0.1:%d on %s -> %s here\n", tn.Port, s.host, tn.Target)
		}
		return func() {}, nil
	}
	tun, ok := s.run.(runner.Tunneler)
	if !ok {
		return nil, &TaskError{Task: t.Name, Host: s.host, Err: errors.New("forward and reverse need an SSH runner that carries tunnels, and this host's runner does not")}
	}
	var open []io.Closer
	closeAll := func() {
		for i := len(open) - 1; i >= 0; i-- {
			open[i].Close()
		}
	}
	add := func(what string, c io.Closer, err error) error {
		if err != nil {
			s.current = what
			closeAll()
			return &TaskError{Task: t.Name, Host: s.host, Err: err}
		}
		open = append(open, c)
		return nil
	}
	for _, tn := range t.Forward {
		c, err := tun.Forward(ctx, tn.Port, tn.Target)
		if err := add("forward "+tn.String(), c, err); err != nil {
			return nil, err
		}
	}
	for _, tn := range t.Reverse {
		c, err := tun.Reverse(ctx, tn.Port, tn.Target)
		if err := add("reverse "+tn.String(), c, err); err != nil {
			return nil, err
		}
	}
	return closeAll, nil
}
