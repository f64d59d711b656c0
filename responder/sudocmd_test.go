package responder

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestSudoCommandWatch feeds a SudoCommand what the wrapper and sudo
// print, one token at a time, as a runner would.
func TestSudoCommandWatch(t *testing.T) {
	type step struct {
		stream Stream
		text   string // READY, PROMPT, MARK stand for the wrapper's tokens
	}
	tests := []struct {
		name      string
		steps     []step
		wantStdin string // NONCE stands for the nonce
		wantAuth  bool   // an *AuthError
		started   bool
	}{
		{name: "nonce, password, start", steps: []step{{Stderr, "READY"}, {Stderr, "PROMPT"}, {Stderr, "MARK"}, {Stdout, "MARK"}},
			wantStdin: "NONCE\npw\n", started: true},
		{name: "no prompt", steps: []step{{Stderr, "READY"}, {Stderr, "MARK"}, {Stdout, "MARK"}},
			wantStdin: "NONCE\n", started: true},
		{name: "one marker: not started yet", steps: []step{{Stderr, "READY"}, {Stderr, "MARK"}},
			wantStdin: "NONCE\n"},
		{name: "a second prompt is a wrong password", steps: []step{{Stderr, "READY"}, {Stderr, "PROMPT"}, {Stderr, "Sorry, try again.\nPROMPT"}},
			wantStdin: "NONCE\npw\n", wantAuth: true},
		{name: "the nonce is given once", steps: []step{{Stderr, "READY"}, {Stdout, "READY"}, {Stderr, "READY"}},
			wantStdin: "NONCE\n"},
		{name: "after its marker, a stream is the command's", steps: []step{{Stderr, "READY"}, {Stderr, "MARKPROMPT"}, {Stderr, "PROMPT"}, {Stdout, "MARKPROMPTREADY"}},
			wantStdin: "NONCE\n", started: true},
		{name: "after a marker on stderr, a prompt on stdout is not answered", steps: []step{{Stderr, "READY"}, {Stderr, "PROMPT"}, {Stderr, "MARK"}, {Stdout, "PROMPT"}},
			wantStdin: "NONCE\npw\n"},
		{name: "on a terminal, the two markers split", steps: []step{{Stdout, "READY"}, {Stdout, "MARK"}, {Stdout, "HALF1"}, {Stdout, "HALF2"}},
			wantStdin: "NONCE\n", started: true},
		{name: "on a terminal, both markers on one stream", steps: []step{{Stdout, "READY"}, {Stdout, "NONCE\r\nPROMPT"}, {Stdout, "\r\nMARKMARK"}, {Stdout, "PROMPT"}},
			wantStdin: "NONCE\npw\n", started: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Sudo{Password: func(context.Context) (string, error) { return "pw", nil }}
			c := s.Command(t.Context(), "true")
			r := strings.NewReplacer("HALF1", c.marker[:7], "HALF2", c.marker[7:], "READY", c.ready, "PROMPT", c.prompt, "MARK", c.marker, "NONCE", c.nonce)
			var stdin strings.Builder
			var err error
			for _, st := range tc.steps {
				if err = c.Watch(st.stream, []byte(r.Replace(st.text)), &stdin); err != nil {
					break
				}
			}
			var af *AuthError
			if got := errors.As(err, &af); got != tc.wantAuth || (err != nil && !tc.wantAuth) {
				t.Errorf("error %v, want an *AuthError: %v", err, tc.wantAuth)
			}
			if want := r.Replace(tc.wantStdin); stdin.String() != want {
				t.Errorf("wrote %q to stdin, want %q", stdin.String(), want)
			}
			started := false
			select {
			case <-c.Started():
				started = true
			default:
			}
			if started != tc.started {
				t.Errorf("started %v, want %v", started, tc.started)
			}
		})
	}
}
