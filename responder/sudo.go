package responder

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gotask/gotask/internal/shell"
)

// Sudo runs commands under sudo and answers sudo's password prompt.
//
// The password is written only while sudo itself is asking, before the
// command it runs has started. Command wraps each command so that:
//
//   - sudo asks with a prompt that carries a secret nonce, fresh for each
//     command. The nonce is in no argv: gotask writes it on the wrapper's
//     standard input when the wrapper asks for it, and the wrapper hands
//     it to sudo in SUDO_PROMPT. Only sudo can print that prompt.
//   - once sudo has authenticated (asking or not), the wrapper, now
//     running as the target user, prints a start marker on stderr and
//     stdout before it runs the command. From the marker on, nothing on
//     that stream is answered, whatever it shows: the command's output
//     can neither obtain the password nor pass for a second prompt.
//   - a second prompt before the marker means sudo refused the password
//     (in any language): the command fails with an *AuthError.
//
// The password never goes into argv or the environment of a process. Use
// one Sudo for one host; its fields must not change after the first call
// to a method. A Sudo is safe for concurrent use.
type Sudo struct {
	// User is the user to run commands as (sudo -u). Empty means sudo's
	// default, root.
	User string

	// Password is asked for the password when sudo first prompts for it,
	// and its answer is kept, so it is called at most once per Sudo
	// unless it fails. Nil means no password is known: a prompt then
	// fails the command with an error wrapping ErrNoPassword.
	Password PasswordFunc

	// Secrets, if not nil, receives the password when it is learnt, so
	// that output that shows it can be masked.
	Secrets *Secrets

	// Host and Task name where commands run, for error messages; either
	// may be empty.
	Host string
	Task string

	mu    sync.Mutex
	cache *passwordCache
}

// promptPrefix starts the prompt sudo is told to print; the nonce and
// ": " follow.
const promptPrefix = "[sudo] gotask password nonce="

// Command prepares cmd to run under sudo, with a nonce of its own. Run
// c.Line, with c among the command's watchers; ctx bounds the call to
// Password, so pass the command's context.
func (s *Sudo) Command(ctx context.Context, cmd string) *SudoCommand {
	c := &SudoCommand{
		s:       s,
		ctx:     ctx,
		nonce:   randomHex(16),
		started: make(chan struct{}),
	}
	id := randomHex(8)
	c.ready = "[gotask sudo " + id + " nonce?]"
	c.marker = "[gotask sudo " + id + " started]"
	c.prompt = promptPrefix + c.nonce + ": "
	c.Line = s.line(cmd, c.ready, c.marker)
	return c
}

// line is the command line that runs cmd under sudo:
//
//	printf %s READY >&2 && IFS= read -r n && export SUDO_PROMPT="[sudo] gotask password nonce=$n: " && exec sudo -S [-u user] -- sh -c 'printf %s MARK >&2; printf %s MARK; <cmd>'
//
// The wrapper asks for the nonce and reads it from its standard input, so
// that it is never in argv. One && chain, so that a runner's leading
// "cd DIR &&" guards all of it. It needs a POSIX shell: run it with
// "sh -c" where the shell may be another (an SSH login shell). cmd runs in
// the same "sh -c" that prints the marker, so cd, pipes and && chains
// work under sudo.
func (s *Sudo) line(cmd, ready, marker string) string {
	var b strings.Builder
	b.WriteString("printf %s ")
	b.WriteString(shell.Quote(ready))
	b.WriteString(` >&2 && IFS= read -r n && export SUDO_PROMPT="`)
	b.WriteString(promptPrefix)
	b.WriteString(`$n: " && exec sudo -S`)
	if s.User != "" {
		b.WriteString(" -u ")
		b.WriteString(shell.Quote(s.User))
	}
	b.WriteString(" -- sh -c ")
	m := shell.Quote(marker)
	b.WriteString(shell.Quote("printf %s " + m + " >&2; printf %s " + m + "; " + cmd))
	return b.String()
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails; see crypto/rand.Read
	return hex.EncodeToString(b)
}

// password returns the password, asking s.Password the first time.
func (s *Sudo) password(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.cache == nil {
		s.cache = newPasswordCache()
	}
	cache := s.cache
	s.mu.Unlock()

	source := s.Password
	if source == nil {
		source = func(context.Context) (string, error) {
			return "", fmt.Errorf("%w: no password source is set", ErrNoPassword)
		}
	}
	pw, err := cache.get(ctx, source)
	if errors.Is(err, ErrNoPassword) {
		why := strings.TrimPrefix(err.Error(), ErrNoPassword.Error()+": ")
		return "", noPasswordMsg(fmt.Sprintf("sudo asked for a password%s and none is known: %s", s.where(), why))
	}
	if err != nil {
		return "", fmt.Errorf("sudo password%s: %w", s.where(), err)
	}
	if strings.ContainsAny(pw, "\r\n") {
		return "", fmt.Errorf("sudo password%s contains a line break; sudo reads one line", s.where())
	}
	s.Secrets.addIfSet(pw)
	return pw, nil
}

// where describes the host and task of s for an error message.
func (s *Sudo) where() string {
	return describe(s.Host, s.Task)
}

// addIfSet adds secret to s unless s is nil.
func (s *Secrets) addIfSet(secret string) {
	if s != nil {
		s.Add(secret)
	}
}

// describe returns " on host H in task "T"", leaving out empty parts.
func describe(host, task string) string {
	var b strings.Builder
	if host != "" {
		b.WriteString(" on host " + host)
	}
	if task != "" {
		fmt.Fprintf(&b, " in task %q", task)
	}
	return b.String()
}

// AuthError reports that sudo refused the password it was given. Find
// it with errors.As.
type AuthError struct {
	Host string // where the command ran; "" when local or unknown
	Task string // the task that ran it; may be ""
	User string // the user the command was to run as; "" for sudo's default
}

// Error returns a message such as
//
//	sudo: wrong password for user "root" on host web1 in task "renice"
//
// leaving out the parts that are empty.
func (e *AuthError) Error() string {
	user := ""
	if e.User != "" {
		user = fmt.Sprintf(" for user %q", e.User)
	}
	return "sudo: wrong password" + user + describe(e.Host, e.Task)
}
