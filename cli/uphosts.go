package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/remote"
	"github.com/gotask/gotask/service"
	"github.com/gotask/gotask/task"
)

// serviceHosts makes spec of s run on s's hosts, when it has some: each
// instance's command is rendered for its host (checked once here, before
// anything runs), and connect reaches the hosts through hs, the run's SSH
// pool. addrs collects what each host name connects to.
func serviceHosts(ctx context.Context, e *task.Executor, s *task.Service, spec *service.Spec, addrs map[string]string) error {
	hosts, err := e.ServiceHosts(s)
	if err != nil || len(hosts) == 0 {
		return err
	}
	for _, h := range hosts {
		if a, ok := addrs[h.Name]; ok && a != h.Addr {
			return fmt.Errorf("service %s: host %s is %s here and %s in another service; give them one user and port", s.Name, h.Name, h.Addr, a)
		}
		addrs[h.Name] = h.Addr
		spec.Hosts = append(spec.Hosts, h.Name)
		for r := 1; r <= max(s.Replicas, 1); r++ {
			if _, err := e.ServiceCommandOn(ctx, s, h.Name, r); err != nil {
				return err
			}
		}
	}
	spec.HostCommand = func(ctx context.Context, host string, replica int) (service.Command, error) {
		c, err := e.ServiceCommandOn(ctx, s, host, replica)
		if err != nil {
			return service.Command{}, err
		}
		// The host's own environment, with the service's values: none
		// of this machine's.
		return service.Command{
			Line:  c.Line,
			Dir:   c.Dir,
			Env:   c.Env,
			Ready: service.ReadyCheck{HTTP: c.Ready.HTTP, TCP: c.Ready.TCP, Sh: c.Ready.Sh},
		}, nil
	}
	return nil
}

// hostConnector returns the supervisor's Connect: the pool's connection
// to the host that addrs maps name to.
func hostConnector(h *hosts, addrs map[string]string) func(ctx context.Context, name string) (service.Host, error) {
	return func(ctx context.Context, name string) (service.Host, error) {
		addr, ok := addrs[name]
		if !ok {
			addr = name
		}
		c, err := h.pool.Get(ctx, addr)
		if err != nil {
			return nil, err
		}
		return sshHost{c}, nil
	}
}

// sshHost is a service.Host reached over SSH: each instance's process is
// a command on a session of the host's connection, stopped through its
// process group as runner/remote stops a task's command.
type sshHost struct{ c *remote.Client }

func (h sshHost) Start(ctx context.Context, c service.Command, stdout, stderr io.Writer) (service.HostProcess, error) {
	p, err := h.c.Start(ctx, &runner.Cmd{Command: c.Line, Dir: c.Dir, Env: c.Env, Stdout: stdout, Stderr: stderr})
	if err != nil {
		return nil, err
	}
	return sshProcess{p}, nil
}

func (h sshHost) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return h.c.DialContext(ctx, network, addr)
}

// sshProcess is a service.HostProcess: a remote.Process.
type sshProcess struct{ p *remote.Process }

func (p sshProcess) Pid() int { return p.p.Pgid() }

func (p sshProcess) Signal(sig syscall.Signal) {
	p.p.Signal(context.Background(), service.SignalName(sig))
}

func (p sshProcess) Done() <-chan struct{} { return p.p.Done() }

func (p sshProcess) Exit() (string, bool) {
	code, sig, known := p.p.Exit()
	switch {
	case !known:
		_, err := p.p.Wait()
		return fmt.Sprintf("outcome unknown: %v", err), false
	case sig != "":
		return "signal " + sig, false
	}
	return fmt.Sprintf("exit %d", code), code == 0
}

func (p sshProcess) Close() { p.p.Close() }

// hostLabel is the longest label of s's instances without the host.
func hostLabel(s *task.Service) string {
	if s.Replicas > 1 {
		return fmt.Sprintf("%s.%d", s.Name, s.Replicas)
	}
	return s.Name
}
