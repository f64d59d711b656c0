package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/task"
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

// askMissing asks on the terminal for each required argument that a
// call leaves unset, listing its choices, and asks again while an answer
// does not fit the argument's type or choices. An empty answer or the
// end of input leaves the argument unset, so that the run stops with
// the usual usage error. A variadic argument is not asked for: its words
// go on the command line.
func askMissing(s *Streams, reg *task.Registry, calls []task.Call) []task.Call {
	in := bufio.NewReader(s.In)
	for i := range calls {
		c := &calls[i]
		t, ok := reg.Lookup(c.Name)
		if !ok {
			continue
		}
		for _, a := range t.Missing(*c) {
			if a.Variadic {
				continue
			}
			if answer, ok := askArg(s, in, t, a); ok {
				if c.Args == nil {
					c.Args = map[string]string{}
				}
				c.Args[a.Name] = answer
			}
		}
	}
	return calls
}

// askArg asks for one argument until the answer fits; ok is false when
// the user gives none.
func askArg(s *Streams, in *bufio.Reader, t *task.Task, a *task.Arg) (answer string, ok bool) {
	q := fmt.Sprintf("task %s: --%s", t.Name, a.Name)
	if a.Help != "" {
		q += " (" + a.Help + ")"
	}
	if len(a.Choices) > 0 {
		q += " [" + strings.Join(a.Choices, ", ") + "]"
	}
	for {
		fmt.Fprintf(s.ErrOut, "%s: ", q)
		line, err := in.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if err == nil {
				fmt.Fprintln(s.ErrOut)
			}
			return "", false
		}
		if _, perr := a.Parse(line); perr != nil {
			fmt.Fprintf(s.ErrOut, "gotask: %v\n", perr)
			if err != nil {
				return "", false
			}
			continue
		}
		return line, true
	}
}
