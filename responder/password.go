package responder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// A PasswordFunc returns a password, such as the one sudo asks for. It
// returns an error wrapping ErrNoPassword when it has none to give, so
// that First can try the next source; any other error means the source
// failed. A prompt on the terminal (with echo off) fits this type too.
type PasswordFunc func(ctx context.Context) (string, error)

// ErrNoPassword is wrapped by the errors of password sources that have no
// password to give, such as an unset environment variable.
var ErrNoPassword = errors.New("no password")

// maxCommandOutput bounds what FromCommand reads from its command.
const maxCommandOutput = 64 << 10

// FromEnv returns a source that reads the environment variable name each
// time it is called. An unset or empty variable yields an error wrapping
// ErrNoPassword.
func FromEnv(name string) PasswordFunc {
	return func(context.Context) (string, error) {
		v, ok := os.LookupEnv(name)
		switch {
		case !ok:
			return "", fmt.Errorf("%w: environment variable %s is not set", ErrNoPassword, name)
		case v == "":
			return "", fmt.Errorf("%w: environment variable %s is empty", ErrNoPassword, name)
		}
		return v, nil
	}
}

// FromCommand returns a source that runs cmdline with "sh -c" (for
// example "pass show sudo/web1") and returns what it prints on standard
// output, less one trailing newline.
//
// The command's environment is env; nil means this process's
// environment, as with os/exec. Give it one without the variables that
// hold secrets. It reads no input. Its standard error goes to stderr as
// it comes (a prompt there shows at once); nil discards it. It fails,
// with an error naming the command, if the command exits non-zero,
// prints nothing or prints more than 64 KiB. The error of a failed
// command carries the last line of its error output only when stderr is
// nil: otherwise that line was shown already. When ctx is done the
// command is interrupted, then killed.
func FromCommand(cmdline string, env []string, stderr io.Writer) PasswordFunc {
	return func(ctx context.Context) (string, error) {
		shown := stderr != nil
		if stderr == nil {
			stderr = io.Discard
		}
		var stdout limitedBuffer
		var errTail tailBuffer
		cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
		cmd.Env = env
		cmd.Stdout = &stdout
		cmd.Stderr = io.MultiWriter(stderr, &errTail)
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 2 * time.Second
		err := cmd.Run()
		switch {
		case ctx.Err() != nil:
			return "", fmt.Errorf("password command %q: %w", cmdline, ctx.Err())
		case err != nil:
			if line := errTail.lastLine(); line != "" && !shown {
				return "", fmt.Errorf("password command %q failed: %w: %s", cmdline, err, line)
			}
			return "", fmt.Errorf("password command %q failed: %w", cmdline, err)
		case stdout.overflow:
			return "", fmt.Errorf("password command %q printed more than %d bytes", cmdline, maxCommandOutput)
		}
		pw := strings.TrimSuffix(stdout.buf.String(), "\n")
		if pw == "" {
			return "", fmt.Errorf("password command %q printed nothing", cmdline)
		}
		return pw, nil
	}
}

// limitedBuffer keeps up to maxCommandOutput bytes and notes overflow.
// It drops the rest rather than fail, so the command is not killed by a
// broken pipe before the error can say what happened.
type limitedBuffer struct {
	buf      bytes.Buffer
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := maxCommandOutput - b.buf.Len(); n > room {
		b.overflow = true
		p = p[:room]
	}
	b.buf.Write(p)
	return n, nil
}

// tailBuffer keeps the last bytes written to it, for error messages.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const keep = 512
	t.b = append(t.b, p...)
	if len(t.b) > keep {
		t.b = append(t.b[:0], t.b[len(t.b)-keep:]...)
	}
	return len(p), nil
}

// lastLine returns the last non-empty line written, trimmed.
func (t *tailBuffer) lastLine() string {
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// First returns a source that tries sources in order and returns the
// first password found. A source whose error wraps ErrNoPassword is
// skipped; any other error is returned at once. When no source has a
// password, the error wraps ErrNoPassword and says why each had none.
func First(sources ...PasswordFunc) PasswordFunc {
	return func(ctx context.Context) (string, error) {
		var none []error
		for _, src := range sources {
			pw, err := src(ctx)
			switch {
			case err == nil:
				return pw, nil
			case !errors.Is(err, ErrNoPassword):
				return "", err
			}
			none = append(none, err)
		}
		switch len(none) {
		case 0:
			return "", fmt.Errorf("%w: no password source configured", ErrNoPassword)
		case 1:
			return "", none[0]
		}
		return "", noPasswordError(none)
	}
}

// noPasswordError lists why each of several sources had no password.
type noPasswordError []error

func (e noPasswordError) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = strings.TrimPrefix(err.Error(), ErrNoPassword.Error()+": ")
	}
	return ErrNoPassword.Error() + ": " + strings.Join(msgs, "; ")
}

func (e noPasswordError) Unwrap() []error { return e }

// noPasswordMsg is an error that wraps ErrNoPassword without repeating
// its text, for a message that already says so in its own words.
type noPasswordMsg string

func (e noPasswordMsg) Error() string { return string(e) }
func (e noPasswordMsg) Unwrap() error { return ErrNoPassword }

// Once returns a source that calls source until it succeeds once, and
// from then on returns that password without calling it. Concurrent
// callers wait for a call in progress rather than starting another, so a
// terminal prompt is shown once per run. Errors are not kept: a failed
// call is retried by the next caller.
func Once(source PasswordFunc) PasswordFunc {
	c := newPasswordCache()
	return func(ctx context.Context) (string, error) {
		return c.get(ctx, source)
	}
}

// passwordCache keeps the first password a source returns.
type passwordCache struct {
	sem chan struct{} // held while the source is being asked

	mu sync.Mutex
	ok bool
	pw string
}

func newPasswordCache() *passwordCache {
	return &passwordCache{sem: make(chan struct{}, 1)}
}

// get returns the kept password, or asks source for it.
func (c *passwordCache) get(ctx context.Context, source PasswordFunc) (string, error) {
	if pw, ok := c.cached(); ok {
		return pw, nil
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.sem }()
	if pw, ok := c.cached(); ok {
		return pw, nil
	}
	pw, err := source(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.ok, c.pw = true, pw
	c.mu.Unlock()
	return pw, nil
}

func (c *passwordCache) cached() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pw, c.ok
}
