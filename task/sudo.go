package task

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gotask/gotask/internal/shell"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// runSudo runs cmd through sudo with r: a fresh SudoCommand for each
// run answers sudo's prompt, keeps the exchange with sudo off the user's
// screen and out of the Result, and holds the command's input back until
// sudo is done asking, so that input (type-ahead on a terminal, a pipe)
// cannot be taken for the password. sudo resets the environment, so the
// command's variables are set inside the sudo shell instead; the working
// directory carries over as sudo keeps it. Over SSH (remote), the login
// shell runs the command line; the wrapper needs a POSIX one.
func runSudo(ctx context.Context, r runner.Runner, cmd *runner.Cmd, sudo *responder.Sudo, remote bool) (*runner.Result, error) {
	line := cmd.Command
	if len(cmd.Env) > 0 {
		line = "export " + shell.Join(cmd.Env) + "; " + line
	}
	sc := sudo.Command(ctx, line)
	run := *cmd
	run.Command, run.Env = sc.Line, nil
	if remote {
		run.Command = "exec sh -c " + shell.Quote(sc.Line)
	}
	if len(run.Command) > maxCommandLine {
		// The rendered command fitted (render checks that), but sudo's
		// wrapper quotes it again.
		return nil, fmt.Errorf("the command is %d bytes once wrapped for sudo, more than the %d a command line can carry; pass large values in a file or on stdin", len(run.Command), maxCommandLine)
	}
	out, errOut := sc.Hide(cmd.Stdout), sc.Hide(cmd.Stderr)
	run.Stdout, run.Stderr = out, errOut
	run.Watchers = append(slices.Clip(cmd.Watchers), sc)
	run.HoldInput = sc.Started()
	res, err := r.Run(ctx, &run)
	out.Close()
	errOut.Close()
	if res != nil {
		res.Stdout, res.Stderr = sc.Clean(res.Stdout), sc.Clean(res.Stderr)
	}
	return res, err
}

// sudoFor returns the Sudo for host and user, making it on first use:
// one password lookup for all of the run's commands there.
func (e *execution) sudoFor(ctx context.Context, host, user string) (*responder.Sudo, error) {
	e.sudoMu.Lock()
	defer e.sudoMu.Unlock()
	key := host + "\x00" + user
	if s, ok := e.sudos[key]; ok {
		return s, nil
	}
	// In order: the sudo_password_env of each group that lists the host,
	// then the executor's own sources. A source with no password (an unset
	// variable) gives way to the next.
	var sources []responder.PasswordFunc
	for _, g := range e.Registry.groupsOf(host) {
		if g.SudoPasswordEnv != "" {
			sources = append(sources, responder.FromEnv(g.SudoPasswordEnv))
		}
	}
	if e.SudoPassword != nil {
		sources = append(sources, e.SudoPassword)
	}
	source := noSudoPassword
	if len(sources) > 0 {
		source = responder.First(sources...)
	}
	if e.SudoPrompt != nil {
		if _, err := source(ctx); errors.Is(err, responder.ErrNoPassword) {
			// Ask now: once the command runs, the terminal is in raw
			// mode and what is typed goes to the command.
			pw, err := e.SudoPrompt(ctx)
			if err != nil {
				return nil, err
			}
			if e.Secrets != nil {
				e.Secrets.Add(pw)
			}
			source = func(context.Context) (string, error) { return pw, nil }
		}
	}
	if user == "root" {
		user = ""
	}
	// No Host or Task: this Sudo serves every task on the host, and the
	// executor's TaskError names both.
	s := &responder.Sudo{User: user, Password: responder.Once(source), Secrets: e.Secrets}
	if e.sudos == nil {
		e.sudos = map[string]*responder.Sudo{}
	}
	e.sudos[key] = s
	return s, nil
}

func noSudoPassword(context.Context) (string, error) {
	return "", fmt.Errorf("%w: no sudo password source is set (Executor.SudoPassword)", responder.ErrNoPassword)
}
