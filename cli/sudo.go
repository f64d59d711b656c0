package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner/local"
	"github.com/gotask/gotask/task"
)

// setSudoPassword sets where sudo passwords come from, in order:
// GOTASK_SUDO_PASSWORD, then --sudo-password-cmd or tasks.toml's
// sudo_password_cmd; --prompt-for-sudo-password asks once up front, and on
// a terminal gotask asks once before the first sudo command if nothing
// else gave a password. Host groups with sudo_password_env come first for
// their hosts (see task.Executor).
func setSudoPassword(ctx context.Context, opts *rootOptions, reg *task.Registry, e *task.Executor, env []string) error {
	for _, name := range local.SecretEnv {
		if v := os.Getenv(name); v != "" {
			if err := e.Secrets.Add(v); err != nil {
				return fmt.Errorf("$%s: %w", name, err)
			}
		}
	}
	sources := []responder.PasswordFunc{responder.FromEnv("GOTASK_SUDO_PASSWORD")}
	cmd := opts.SudoPasswordCmd
	if cmd == "" {
		cmd = reg.SudoPasswordCmd
	}
	if cmd != "" {
		sources = append(sources, responder.FromCommand(cmd, env, opts.Streams.ErrOut))
	}
	// Last, a source that never has one: it says how to give one.
	sources = append(sources, howToGiveSudoPassword)
	e.SudoPassword = responder.Once(e.Secrets.Checked(responder.First(sources...)))
	prompt := passwordPrompt(opts.Streams, "[gotask] sudo password: ")
	if prompt != nil {
		prompt = e.Secrets.Checked(prompt)
	}
	if opts.PromptForSudoPassword {
		if prompt == nil {
			return &UsageError{Msg: "--prompt-for-sudo-password needs a terminal on stdin; use GOTASK_SUDO_PASSWORD or --sudo-password-cmd instead"}
		}
		pw, err := prompt(ctx)
		if err != nil {
			return err
		}
		e.SudoPassword = func(context.Context) (string, error) { return pw, nil }
		return nil
	}
	if prompt != nil {
		e.SudoPrompt = responder.Once(prompt)
	}
	return nil
}

// howToGiveSudoPassword is the last sudo password source: it has none,
// and its reason says how to give one.
func howToGiveSudoPassword(context.Context) (string, error) {
	return "", fmt.Errorf("%w: set GOTASK_SUDO_PASSWORD, pass --sudo-password-cmd CMD, or --prompt-for-sudo-password", responder.ErrNoPassword)
}
