package responder

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/gotask/gotask/internal/shell"
)

// Sudo runs commands under sudo and answers sudo's password prompt.
//
// Command wraps a command line so that sudo reads the password from
// standard input and asks for it with a prompt that carries a random
// nonce; the Watcher answers only that prompt. A program cannot fake the
// prompt to steal the password without knowing the nonce, and a wrong
// password is recognised by sudo asking again, in any language.
//
// The password goes only to sudo's standard input: never into argv or
// the environment of a process. Use one Sudo for one host; its fields must
// not change after the first call to a method. A Sudo is safe for
// concurrent use.
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
	nonce string
	cache *passwordCache
}

// Command returns cmd wrapped for sudo, as one shell command line:
//
//	sudo -S -p '<prompt with nonce>' [-u user] -- sh -c '<cmd>'
//
// Running cmd with "sh -c" keeps cd, pipes and && chains working under
// sudo. The nonce is the same for every command of s.
func (s *Sudo) Command(cmd string) string {
	var b strings.Builder
	b.WriteString("sudo -S -p ")
	b.WriteString(shell.Quote(s.prompt()))
	if s.User != "" {
		b.WriteString(" -u ")
		b.WriteString(shell.Quote(s.User))
	}
	b.WriteString(" -- sh -c ")
	b.WriteString(shell.Quote(cmd))
	return b.String()
}

// Watcher returns a Watcher for one command made by Command. It answers
// sudo's prompt with the password and a newline, and fails the command
// with an *AuthFailure as soon as sudo asks a second time, which means
// the password was wrong. If Password fails, Watch returns its error,
// wrapped. ctx bounds the call to Password; pass the command's context.
func (s *Sudo) Watcher(ctx context.Context) Watcher {
	re := regexp.MustCompile(regexp.QuoteMeta(s.prompt()))
	return &FailingResponder{
		Responder: Responder{
			Pattern: re,
			answer: func() (string, error) {
				pw, err := s.password(ctx)
				if err != nil {
					return "", err
				}
				return pw + "\n", nil
			},
		},
		Sentinel: re,
		Err:      &AuthFailure{Host: s.Host, Task: s.Task, User: s.User},
	}
}

// prompt returns the prompt sudo is told to print, which includes the
// nonce of s.
func (s *Sudo) prompt() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nonce == "" {
		var b [16]byte
		rand.Read(b[:]) // never fails; see crypto/rand.Read
		s.nonce = hex.EncodeToString(b[:])
	}
	return "[sudo] gotask password nonce=" + s.nonce + ": "
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

// AuthFailure reports that sudo refused the password it was given. Find
// it with errors.As.
type AuthFailure struct {
	Host string // where the command ran; "" when local or unknown
	Task string // the task that ran it; may be ""
	User string // the user the command was to run as; "" for sudo's default
}

// Error returns a message such as
//
//	sudo: wrong password for user "root" on host web1 in task "renice"; check GOTASK_SUDO_PASSWORD or --sudo-password-cmd
//
// leaving out the parts that are empty.
func (e *AuthFailure) Error() string {
	user := ""
	if e.User != "" {
		user = fmt.Sprintf(" for user %q", e.User)
	}
	return "sudo: wrong password" + user + describe(e.Host, e.Task) +
		"; check GOTASK_SUDO_PASSWORD or --sudo-password-cmd"
}
