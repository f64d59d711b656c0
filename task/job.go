package task

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"time"

	"github.com/gotask/gotask/internal/shell"
	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// Job is one Go task running in one place (this machine, or one of its
// hosts): what the task's function gets beside its context.Context. It
// holds the task's arguments and runs commands where the task runs, in
// the manner of Fabric's Connection. A Go task with hosts gets one Job
// per host. Outside an Executor, task/tasktest makes one for unit tests.
type Job struct {
	s *scope
}

// Option adjusts one command run through a Job.
type Option func(*command)

// InDir runs the command in dir (relative to the tasks.toml directory
// locally, to the login directory remotely).
func InDir(dir string) Option {
	return func(c *command) { c.dir, c.stepDir = joinDir(c.dir, dir), joinDir(c.stepDir, dir) }
}

// WithEnv sets an environment variable for the command.
func WithEnv(key, value string) Option {
	return func(c *command) {
		if c.env == nil {
			c.env = map[string]string{}
		}
		c.env[key] = value
	}
}

// WithPty forces (true) or forbids (false) a pseudo-terminal.
func WithPty(on bool) Option { return func(c *command) { c.pty = &on } }

// Warn makes a failing command return its Result and a nil error. gotask
// prints a warning for it, unless Hide is given too: then the task is
// taken to handle the failure itself.
func Warn() Option { return func(c *command) { c.warn = true } }

// WithTimeout stops the command after d.
func WithTimeout(d time.Duration) Option { return func(c *command) { c.timeout = d } }

// Hide captures the command's standard output without printing it; its
// errors still show, so a failing hidden command can say why.
func Hide() Option { return func(c *command) { c.hide = true } }

// WithStdin gives the command this input instead of gotask's stdin.
func WithStdin(r io.Reader) Option { return func(c *command) { c.stdin = r } }

// Watch adds watchers (such as a *responder.Responder) to the command.
func Watch(w ...responder.Watcher) Option {
	return func(c *command) { c.extra = append(c.extra, w...) }
}

// AsUser runs the command through sudo as user; Job.Sudo is the same
// as AsUser("root").
func AsUser(user string) Option { return func(c *command) { c.sudo = user } }

// Run runs a shell command where the task runs: on its host, or on this
// machine. The command is used as it is: quote values with Quote. The
// Result keeps up to runner.DefaultCapture bytes of each stream.
func (j *Job) Run(ctx context.Context, command string, opts ...Option) (*runner.Result, error) {
	return j.exec(ctx, command, false, opts)
}

// Local runs a shell command on this machine, even in a task with hosts.
func (j *Job) Local(ctx context.Context, command string, opts ...Option) (*runner.Result, error) {
	return j.exec(ctx, command, true, opts)
}

// Sudo runs a shell command through sudo as root, answering the
// password prompt (see the README's "sudo" section).
func (j *Job) Sudo(ctx context.Context, command string, opts ...Option) (*runner.Result, error) {
	return j.exec(ctx, command, false, append([]Option{AsUser("root")}, opts...))
}

func (j *Job) exec(ctx context.Context, line string, local bool, opts []Option) (*runner.Result, error) {
	cmd, err := j.s.command("", pos{}, nil)
	if err != nil {
		return nil, err
	}
	cmd.line, cmd.local = line, local
	cmd.sudo = "" // a Go task's commands use sudo only when asked
	// The Result goes back to the task: keep its output, not a tail.
	cmd.capture = runner.DefaultCapture
	for _, o := range opts {
		o(cmd)
	}
	return j.s.exec(ctx, cmd)
}

// Put uploads the local path src to dst on the task's host. mode sets the
// permission bits; zero keeps the source's.
func (j *Job) Put(ctx context.Context, src, dst string, mode fs.FileMode) (*runner.CopyResult, error) {
	return j.s.copy(ctx, true, src, dst, mode, "")
}

// Get downloads src from the task's host to the local path dst.
func (j *Job) Get(ctx context.Context, src, dst string, mode fs.FileMode) (*runner.CopyResult, error) {
	return j.s.copy(ctx, false, src, dst, mode, "")
}

// Host is the host the task runs on, as given; "" on this machine.
func (j *Job) Host() string { return j.s.host }

// Stdout is where the task's output goes; write to it rather than to
// os.Stdout so that multi-host output is prefixed and kept whole.
func (j *Job) Stdout() io.Writer { return j.s.stdout }

// Stderr is where the task's error output goes.
func (j *Job) Stderr() io.Writer { return j.s.stderr }

// Var returns a tasks.toml var for the host the job runs on, with the
// precedence a command's {{.name}} has: --var, then the host's
// [host_vars.HOST], then the vars of the first group by name that lists
// the host and sets it, then [vars]; or "". On this machine (no host) it
// is [vars] alone. A computed var ({ sh = "..." }) is not run for a Go
// task: Var returns "" for it.
func (j *Job) Var(name string) string {
	if v, ok := j.s.e.Registry.hostVar(j.s.host, name); ok {
		return v
	}
	return j.s.e.Registry.Vars[name]
}

// String returns a string argument. It panics if the task declares no
// such argument: that is a bug in the task, not a user error.
func (j *Job) String(name string) string { return argOf[string](j, name) }

// Int returns an int argument; see String.
func (j *Job) Int(name string) int { return argOf[int](j, name) }

// Bool returns a bool argument; see String.
func (j *Job) Bool(name string) bool { return argOf[bool](j, name) }

// Duration returns a duration argument; see String.
func (j *Job) Duration(name string) time.Duration { return argOf[time.Duration](j, name) }

// Words returns the list of words named name: Words("ARGS") is what
// followed `--` on the command line (nil when nothing did).
func (j *Job) Words(name string) []string {
	v, _ := j.s.args[name].([]string)
	return slices.Clone(v)
}

func argOf[T any](j *Job, name string) T {
	v, ok := j.s.args[name].(T)
	if !ok {
		var zero T
		panic(fmt.Sprintf("task %q has no %T argument %q", j.s.t.Name, zero, name))
	}
	return v
}

// Task runs another task with the given arguments (as strings, as on the
// command line), its deps first.
func (j *Job) Task(ctx context.Context, name string, args map[string]string) error {
	t, err := j.s.e.Registry.Resolve(name)
	if err != nil {
		return err
	}
	parsed, err := t.ParseArgs(args)
	if err != nil {
		return err
	}
	return j.s.e.runTask(ctx, t, parsed)
}

// Quote returns s as one POSIX shell word, for building command lines
// from values in Go tasks.
func Quote(s string) string { return shell.Quote(s) }

// errNoCopier says file transfer needs a host.
var errNoCopier = errors.New("put and get need a remote host; give the task hosts or run it with -H")
