package task

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// command is one shell command with every option resolved.
type command struct {
	line    string
	local   bool
	dir     string // the task's dir joined with the step's
	stepDir string // the step's own dir
	env     map[string]string
	pty     *bool
	warn    bool
	timeout time.Duration
	agent   bool // forward the ssh-agent (the task's forward_agent)
	sudo    string
	retries int
	hide    bool
	stdin   io.Reader
	watch   []Answer
	extra   []responder.Watcher
	capture int // runner.Cmd.Capture: zero (a short tail) unless a caller reads the output
	nice    int // the task's nice, for commands run here

	retryDelay time.Duration // before the first retry, doubling up to MaxRetryDelay
	until      string        // a check that must pass, else the command is retried
	untilAt    pos
	step       *Step // the step the command comes from, if any
}

// command builds a command from a step of the scope's task, with the
// step's settings overriding the task's. The placeholders of line, which
// was declared at at, are rendered for their shell contexts.
func (s *scope) command(line string, at pos, st *Step) (*command, error) {
	t := s.t
	tmpl, err := s.e.Registry.shellTemplate(t, at, line)
	if err != nil {
		return nil, err
	}
	expanded, err := tmpl.renderWords(s.lookup, s.words)
	var unknown *unknownNameError
	if errors.As(err, &unknown) && s.e.Registry.IsHostVar(unknown.name) {
		if s.host == "" {
			return nil, fmt.Errorf("{{.%s}} is set only for some hosts, and task %q runs here, on no host: declare it under [vars] too, or give the task hosts", unknown.name, t.Name)
		}
		return nil, fmt.Errorf("{{.%s}} has no value on host %s: set it under [host_vars.%q], in the vars of a group listing the host, or under [vars]", unknown.name, s.host, s.host)
	}
	if err != nil {
		return nil, err
	}
	c := &command{line: expanded, pty: t.Pty, warn: t.Warn, sudo: t.Sudo, retries: t.Retries,
		stdin: s.stdin, watch: t.Answers}
	c.timeout = t.Timeout
	c.agent = t.ForwardAgent
	c.nice = t.Nice
	c.retryDelay, c.until, c.untilAt, c.step = t.RetryDelay, t.Until, t.pos.child("until", -1), st
	if c.env, err = s.envFor(); err != nil {
		return nil, err
	}
	if c.dir, err = expand(t.Dir, s.lookup); err != nil {
		return nil, err
	}
	if st == nil {
		return c, nil
	}
	if st.Dir != "" {
		d, err := expand(st.Dir, s.lookup)
		if err != nil {
			return nil, err
		}
		c.dir, c.stepDir = joinDir(c.dir, d), d
	}
	for _, k := range slices.Sorted(maps.Keys(st.Env)) {
		v, err := expand(st.Env[k], s.lookup)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", k, err)
		}
		if c.env == nil {
			c.env = map[string]string{}
		}
		c.env[k] = v
	}
	if len(s.e.Env) > 0 {
		// The command line's --env is over every layer, the step's too.
		if c.env == nil {
			c.env = map[string]string{}
		}
		maps.Copy(c.env, s.e.Env)
	}
	if st.Pty != nil {
		c.pty = st.Pty
	}
	c.warn = c.warn || st.Warn
	if st.Timeout > 0 {
		c.timeout = st.Timeout
	}
	if st.Retries != nil {
		c.retries = *st.Retries
	}
	if st.RetryDelay > 0 {
		c.retryDelay = st.RetryDelay
	}
	if st.Until != "" {
		c.until, c.untilAt = st.Until, st.pos.child("until", -1)
	}
	switch {
	case st.NoSudo:
		c.sudo = ""
	case st.Sudo != "":
		c.sudo = st.Sudo
	}
	c.watch = append(slices.Clip(c.watch), st.Answers...)
	return c, nil
}

func joinDir(base, d string) string {
	if base == "" || filepath.IsAbs(d) || strings.HasPrefix(d, "~") {
		return d
	}
	return filepath.Join(base, d)
}

// exec runs one command with echo, dry-run, retries and warn applied.
func (s *scope) exec(ctx context.Context, c *command) (*runner.Result, error) {
	if s.e.Dry {
		fmt.Fprintf(s.stdout, "%s\n", s.display(c))
		return &runner.Result{Host: s.host}, nil
	}
	if s.e.Echo {
		fmt.Fprintf(s.stderr, "%s\n", s.display(c))
	}
	cmd, err := s.runnerCmd(ctx, c)
	var sudo *responder.Sudo
	if err == nil && c.sudo != "" && s.e.commands == nil {
		sudo, err = s.e.sudoFor(ctx, s.host, c.sudo)
	}
	if err != nil {
		return nil, &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	r := s.run
	if c.local {
		r = s.e.Local
	}
	var res *runner.Result
	delay := c.retryDelay
	for attempt := 0; ; attempt++ {
		switch {
		case s.e.commands != nil: // a Job made by NewJob
			res, err = s.e.commands.RunCommand(ctx, s.public(c))
		case sudo == nil:
			res, err = r.Run(ctx, cmd)
		default:
			res, err = runSudo(ctx, r, cmd, sudo, s.host != "" && !c.local)
		}
		var ee *runner.ExitError
		retryable := err != nil && errors.As(err, &ee)
		if err == nil && c.until != "" {
			ok, cerr := s.condition(ctx, c.until, c.untilAt, c.step, c.local)
			switch {
			case cerr != nil:
				err = cerr
			case !ok:
				err, retryable = fmt.Errorf("until %q did not pass after %d attempt(s)", c.until, attempt+1), true
			}
		}
		if err == nil || attempt >= c.retries || ctx.Err() != nil || !retryable {
			break
		}
		if !s.e.Quiet {
			fmt.Fprintf(s.stderr, "gotask: task %q: %v; retrying (%d of %d)\n", s.t.Name, err, attempt+1, c.retries)
		}
		if delay > 0 {
			if werr := s.e.waitRetry(ctx, delay); werr != nil {
				err = werr
				break
			}
			delay = min(2*delay, MaxRetryDelay)
		}
	}
	if res != nil && s.e.Secrets != nil {
		res.Stdout, res.Stderr = s.e.Secrets.Redact(res.Stdout), s.e.Secrets.Redact(res.Stderr)
	}
	if err == nil {
		return res, nil
	}
	var ee *runner.ExitError
	scriptErr := s.e.commands != nil && !errors.As(err, &ee) // NewJob: the script is wrong; never warn it away
	err = &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	if (c.warn || s.e.Warn) && ctx.Err() == nil && !scriptErr {
		if !s.e.Quiet && !(c.warn && c.hide) { // Warn()+Hide(): the Go task handles it
			fmt.Fprintf(s.stderr, "gotask: warning: %v (continuing)\n", err)
		}
		if !c.warn {
			s.e.failed.add(err) // -w: carry on, but the run still fails
		}
		return res, nil
	}
	return res, err
}

// display is how a command is shown by echo and dry runs.
func (s *scope) display(c *command) string {
	prefix := "$ "
	if c.sudo != "" {
		prefix = "$ [sudo] "
		if c.sudo != "root" {
			prefix = "$ [sudo -u " + c.sudo + "] "
		}
	}
	if s.host != "" && !c.local && !s.multi {
		prefix = "[" + s.host + "] " + prefix
	}
	return prefix + c.line
}

// runnerCmd turns a command into what a runner takes.
func (s *scope) runnerCmd(ctx context.Context, c *command) (*runner.Cmd, error) {
	cmd := &runner.Cmd{
		Command: c.line,
		Stdin:   c.stdin,
		Stdout:  s.stdout,
		Stderr:  s.stderr,
		Pty:     ptyMode(c.pty),
		Timeout: c.timeout,
		Capture: c.capture,

		ForwardAgent: c.agent && !c.local,
	}
	if s.e.NoPty {
		cmd.Pty = runner.PtyOff
	}
	if c.hide {
		cmd.Stdout = nil
		if cmd.Pty == runner.PtyAuto {
			cmd.Pty = runner.PtyOff // keep stderr apart, so it can still show
		}
	}
	if s.host == "" || c.local {
		cmd.Nice = c.nice
	}
	switch {
	case s.host == "":
		cmd.Dir = joinDir(s.t.dirIn(s.e.Registry), c.dir)
	case c.local:
		// A remote task's dir is a path on the host: a local step runs
		// beside tasks.toml, or in its own dir.
		cmd.Dir = joinDir(s.t.dirIn(s.e.Registry), c.stepDir)
	default:
		cmd.Dir = c.dir
	}
	keys := slices.Sorted(maps.Keys(c.env))
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+c.env[k])
	}
	if s.host != "" {
		cmd.Env = append(cmd.Env, "GOTASK_HOST="+s.host)
	}
	for _, r := range c.watch {
		w, err := newResponder(r, s.e.Secrets)
		if err != nil {
			return nil, err
		}
		cmd.Watchers = append(cmd.Watchers, w)
	}
	cmd.Watchers = append(cmd.Watchers, c.extra...)
	return cmd, nil
}

// newResponder builds the watcher for a tasks.toml responder. A
// response_env variable is read now, when the command runs, so that a
// missing secret fails this command rather than the whole load.
func newResponder(r Answer, secrets *responder.Secrets) (responder.Watcher, error) {
	re, err := regexp.Compile(r.Pattern)
	if err != nil {
		return nil, fmt.Errorf("responder pattern %q: %w", r.Pattern, err)
	}
	answer := r.Response
	if r.ResponseEnv != "" {
		v, ok := os.LookupEnv(r.ResponseEnv)
		if !ok {
			return nil, fmt.Errorf("responder for %q answers with $%s, which is not set; export it before running gotask", r.Pattern, r.ResponseEnv)
		}
		v = strings.TrimSuffix(v, "\n")
		if secrets != nil {
			if err := secrets.Add(v); err != nil {
				return nil, fmt.Errorf("responder for %q answers with $%s: %w", r.Pattern, r.ResponseEnv, err)
			}
		}
		answer = v + "\n" // typed at a prompt, an answer ends with Enter
	}
	return &responder.Responder{Pattern: re, Response: answer}, nil
}

// checkPattern validates a responder's regular expression at load time.
func checkPattern(p string) error {
	if p == "" {
		return errors.New("empty pattern")
	}
	_, err := regexp.Compile(p)
	return err
}
