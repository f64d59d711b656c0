package task

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gotask/gotask/runner"
)

// HostCheck is what Executor.CheckHosts found on one host.
type HostCheck struct {
	// Host is the host as named: an alias or a host string.
	Host string
	// Connect is why connecting failed (a host key known_hosts does not
	// vouch for, failed authentication, an unreachable host); nil when
	// connected, which means the host key was verified and the login
	// accepted.
	Connect error
	// SudoUsers are the users the task runs commands as through sudo
	// ("root" for sudo = true). Empty when the task uses no sudo.
	SudoUsers []string
	// Sudo is why running a command that does nothing through sudo as
	// one of SudoUsers failed (a wrong or missing password, a user not
	// allowed); nil when each passed, or was not tried as connecting
	// failed.
	Sudo error
}

// OK reports whether every check passed on the host.
func (c *HostCheck) OK() bool { return c.Connect == nil && c.Sudo == nil }

// CheckHosts connects to each host the named task would run on (Hosts
// replaces them when set; with Hosts, call.Name may be empty), on all of
// them at once, bounded by Parallel: that verifies the host key and
// authenticates. When the task runs commands through sudo, it then runs
// "true" through sudo as each such user, answering sudo's prompt from the
// run's password sources exactly as the task's commands would, so that a
// wrong password shows before anything changed. It runs nothing else: no
// deps, no steps. Its error is for a task or group that does not exist;
// what failed on a host is in its HostCheck, in the order of the hosts.
func (e *Executor) CheckHosts(ctx context.Context, call Call) ([]HostCheck, error) {
	x := e.newExecution()
	x.ctx = ctx
	t := &Task{} // no task: the hosts are Hosts
	if call.Name != "" {
		var err error
		if t, err = e.Registry.Resolve(call.Name); err != nil {
			return nil, err
		}
	}
	targets, err := x.targets(t, e.Hosts)
	var ae *ArgError
	if call.Name == "" && errors.As(err, &ae) {
		err = ae.Err // there is no task to name
	}
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		if call.Name == "" {
			return nil, errors.New("no hosts to check")
		}
		return nil, &ArgError{Task: t.Name, Err: errors.New("has no hosts to check; name some")}
	}
	users := sudoUsers(t)
	parallel := e.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	checks := make([]HostCheck, len(targets))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, tg := range targets {
		checks[i] = HostCheck{Host: tg.name, SudoUsers: users}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				checks[i].Connect = ctx.Err()
				return
			}
			x.checkHost(ctx, tg, &checks[i])
		}()
	}
	wg.Wait()
	return checks, nil
}

// checkHost connects to one host and checks each sudo user there.
func (e *execution) checkHost(ctx context.Context, tg target, c *HostCheck) {
	if e.Remote == nil {
		c.Connect = fmt.Errorf("this gotask has no SSH runner")
		return
	}
	r, err := e.Remote.Connect(ctx, tg.addr)
	if err != nil {
		c.Connect = err
		return
	}
	for _, user := range c.SudoUsers {
		sudo, err := e.sudoFor(ctx, tg.name, user)
		if err == nil {
			_, err = runSudo(ctx, r, &runner.Cmd{Command: "true", Pty: runner.PtyOff}, sudo, true)
		}
		if err != nil {
			c.Sudo = fmt.Errorf("sudo as %s: %w", user, err)
			return
		}
	}
}

// sudoUsers are the users t's own commands run as through sudo, sorted:
// the steps' own, and the task's where a step (or its Go function)
// inherits it.
func sudoUsers(t *Task) []string {
	var users []string
	add := func(u string) {
		if u != "" && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	inherits := len(t.Steps) == 0
	for _, st := range t.Steps {
		switch {
		case st.Sudo != "":
			add(st.Sudo)
		case !st.NoSudo:
			inherits = true
		}
	}
	if inherits {
		add(t.Sudo)
	}
	slices.Sort(users)
	return users
}
