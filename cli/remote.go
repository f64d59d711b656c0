package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/remote"
	"github.com/gotask/gotask/task"
)

// setRemote configures how the executor reaches hosts: one SSH pool for
// the run, so every step and task on a host shares one connection.
func setRemote(opts *rootOptions, e *task.Executor) error {
	var mode output.Mode
	switch m := output.Mode(opts.Output); m {
	case "prefixed":
		mode = output.Prefixed
	case output.Grouped, output.JSON:
		mode = m
	default:
		return &UsageError{Msg: fmt.Sprintf("--output %q: use prefixed, grouped or json", opts.Output)}
	}
	if opts.Parallel < 1 {
		return &UsageError{Msg: "--parallel must be at least 1"}
	}
	for _, h := range opts.Hosts {
		if _, group := strings.CutPrefix(h, "@"); group {
			continue // the executor checks groups, naming the task
		}
		if err := task.CheckHost(h); err != nil {
			return &UsageError{Msg: fmt.Sprintf("-H: %v", err)}
		}
	}
	e.Hosts, e.Parallel, e.Only, e.Exclude = opts.Hosts, opts.Parallel, opts.Only, opts.Exclude
	e.Output = output.New(e.Stdout, e.Stderr, output.Options{
		Mode:     mode,
		Color:    opts.Streams.color(),
		ErrColor: opts.Streams.errColor(),
		Progress: opts.Streams.progress(),
		Redact:   e.Secrets.Redact,
		Hint:     hint,
	})
	cfg := &remote.Config{
		SSHConfig:     opts.SSHConfig,
		IdentityFiles: opts.Identities,
		AcceptNew:     opts.AcceptNewHostKeys,
	}
	cfg.Passphrase = askSecret(opts.Streams)
	if opts.PromptForLoginPassword {
		if cfg.Password = askSecret(opts.Streams); cfg.Password == nil {
			return &UsageError{Msg: "--prompt-for-login-password needs a terminal on stdin"}
		}
	}
	pool := remote.NewPool(cfg)
	e.Connect = func(ctx context.Context, host string) (runner.Runner, error) {
		return pool.Get(ctx, host)
	}
	e.CloseHosts = func() { _ = pool.Close() }
	return nil
}
