package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/local"
	"github.com/gotask/gotask/runner/remote"
	"github.com/gotask/gotask/task"
)

// setRemote configures how the executor reaches hosts: one SSH pool for
// the run, so every step and task on a host shares one connection. The
// caller closes the hosts it returns when the command is done.
func setRemote(opts *rootOptions, e *task.Executor) (*hosts, error) {
	var mode output.Mode
	switch m := output.Mode(opts.Output); m {
	case "prefixed":
		mode = output.Prefixed
	case output.Grouped, output.JSON:
		mode = m
	default:
		return nil, &UsageError{Msg: fmt.Sprintf("--output %q: use prefixed, grouped or json", opts.Output)}
	}
	if opts.Parallel < 1 {
		return nil, &UsageError{Msg: "--parallel must be at least 1"}
	}
	for _, h := range opts.Hosts {
		if _, group := strings.CutPrefix(h, "@"); group {
			continue // the executor checks groups, naming the task
		}
		if err := task.CheckHost(h); err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("-H: %v", err)}
		}
	}
	e.Hosts, e.Parallel, e.Only, e.Exclude = opts.Hosts, opts.Parallel, opts.Only, opts.Exclude
	e.Resume, e.RetryFailed = opts.Resume, opts.RetryFailed
	e.Output = output.New(e.Stdout, e.Stderr, output.Options{
		Mode:     mode,
		Color:    opts.Streams.color(),
		ErrColor: opts.Streams.errColor(),
		Progress: opts.Streams.progress(),
		Redact:   e.Secrets.Redact,
		Hint:     hint,
	})
	cfg, err := remoteConfig(opts)
	if err != nil {
		return nil, err
	}
	cfg.ProxyStderr = e.Stderr // ProxyCommand's own messages, as ssh shows them
	if opts.Persist < 0 {
		return nil, &UsageError{Msg: "--persist takes a positive duration, like 10m"}
	}
	var env []string
	if lr, ok := e.Local.(*local.Runner); ok {
		env = lr.Env // without the variables that hold secrets
	}
	cfg.Persist = persistConfig(opts.Persist, env)
	cfg.Passphrase = askSecret(opts.Streams)
	if opts.PromptForLoginPassword {
		if cfg.Password = askSecret(opts.Streams); cfg.Password == nil {
			return nil, &UsageError{Msg: "--prompt-for-login-password needs a terminal on stdin"}
		}
	}
	h := &hosts{pool: remote.NewPool(cfg)}
	e.Remote = h
	return h, nil
}

// remoteConfig is the SSH configuration the flags ask for. The scale
// knobs are checked here: --max-handshakes 0 is remote's default (a few
// per CPU) and --max-idle-hosts 0 disconnects a host as soon as no task
// uses it; neither may be negative.
func remoteConfig(opts *rootOptions) (*remote.Config, error) {
	if opts.MaxHandshakes < 0 {
		return nil, &UsageError{Msg: fmt.Sprintf("--max-handshakes %d: give how many connections may be set up at once, at least 1 (or 0 for %d per CPU)", opts.MaxHandshakes, remote.DefaultMaxHandshakesPerCPU)}
	}
	if opts.MaxIdleHosts < 0 {
		return nil, &UsageError{Msg: fmt.Sprintf("--max-idle-hosts %d: give how many idle hosts stay connected, 0 or more (default %d)", opts.MaxIdleHosts, remote.DefaultMaxIdleHosts)}
	}
	cfg := &remote.Config{
		SSHConfig:     opts.SSHConfig,
		IdentityFiles: opts.Identities,
		AcceptNew:     opts.AcceptNewHostKeys,
		ForwardAgent:  opts.ForwardAgent,
		MaxHandshakes: opts.MaxHandshakes,
		MaxIdleHosts:  opts.MaxIdleHosts,
	}
	if opts.MaxIdleHosts == 0 {
		cfg.MaxIdleHosts = -1 // remote's "none": its zero is the default
	}
	return cfg, nil
}

// hosts is the CLI's task.Connector: a pool of SSH connections, one per
// host, that lives as long as the command.
type hosts struct{ pool *remote.Pool }

// Connect returns the pool's connection to host, dialling it first if
// need be.
func (h *hosts) Connect(ctx context.Context, host string) (runner.Runner, error) {
	return h.pool.Get(ctx, host)
}

// Release tells the pool a task is done with host: its connection is
// closed once more than --max-idle-hosts (remote.DefaultMaxIdleHosts)
// other hosts have been released after it, unless a task takes it up
// again first.
func (h *hosts) Release(host string) { h.pool.Release(host) }

// Close closes every connection the pool opened.
func (h *hosts) Close() error { return h.pool.Close() }
