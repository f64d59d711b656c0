package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/gotask/gotask/responder"
)

// askSecret returns the one way gotask asks for a secret (the sudo
// password, an SSH login password, a key's passphrase): the question on
// stderr, the answer read from the terminal with echo off. Echo goes off
// before the question shows, so that an answer typed as soon as it shows
// is not echoed either, and comes back on afterwards. askSecret returns
// nil when stdin is not a terminal.
func askSecret(s *Streams) func(question string) (string, error) {
	in, ok := s.In.(*os.File)
	if !ok || !s.InTTY {
		return nil
	}
	fd := int(in.Fd())
	return func(question string) (string, error) {
		if restore, err := echoOff(fd); err == nil {
			defer restore()
		}
		fmt.Fprint(s.ErrOut, question)
		pw, err := term.ReadPassword(fd)
		fmt.Fprintln(s.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(pw), nil
	}
}

// passwordPrompt returns a PasswordFunc that asks question with
// askSecret, or nil when stdin is not a terminal.
func passwordPrompt(s *Streams, question string) responder.PasswordFunc {
	ask := askSecret(s)
	if ask == nil {
		return nil
	}
	return func(context.Context) (string, error) { return ask(question) }
}

// confirmer asks yes/no questions on the terminal.
func confirmer(s *Streams) func(string) (bool, error) {
	return func(q string) (bool, error) {
		fmt.Fprintf(s.ErrOut, "%s [y/N] ", q)
		line, err := bufio.NewReader(s.In).ReadString('\n')
		if err != nil && line == "" {
			return false, fmt.Errorf("no answer to %q", q)
		}
		answer := strings.ToLower(strings.TrimSpace(line))
		return answer == "y" || answer == "yes", nil
	}
}
