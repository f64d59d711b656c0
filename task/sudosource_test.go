package task

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/gotask/gotask/responder"
)

// The sudo password of a host comes, in order, from the sudo_password_env
// of each group that lists it (groups in name order), then from the
// executor's own sources; a variable that is not set gives way to the
// next source instead of failing.
func TestSudoPasswordPrecedence(t *testing.T) {
	global := func(context.Context) (string, error) { return "global-pw", nil }
	none := func(context.Context) (string, error) {
		return "", errors.Join(responder.ErrNoPassword, errors.New("nothing set"))
	}
	tests := []struct {
		name   string
		groups map[string]*HostGroup
		env    map[string]string
		source responder.PasswordFunc
		want   string // "" for ErrNoPassword
	}{
		{
			name:   "a group's variable comes before the global sources",
			groups: map[string]*HostGroup{"web": {Hosts: []string{"h1"}, SudoPasswordEnv: "WEB_PW"}},
			env:    map[string]string{"WEB_PW": "web-pw"},
			source: global, want: "web-pw",
		},
		{
			name:   "a host in two groups keeps their variables",
			groups: map[string]*HostGroup{"a": {Hosts: []string{"h1"}, SudoPasswordEnv: "A_PW"}, "b": {Hosts: []string{"h1", "h2"}, SudoPasswordEnv: "B_PW"}},
			env:    map[string]string{"B_PW": "b-pw"},
			source: global, want: "b-pw",
		},
		{
			name:   "of two groups the first by name wins",
			groups: map[string]*HostGroup{"b": {Hosts: []string{"h1"}, SudoPasswordEnv: "B_PW"}, "a": {Hosts: []string{"h1"}, SudoPasswordEnv: "A_PW"}},
			env:    map[string]string{"A_PW": "a-pw", "B_PW": "b-pw"},
			source: global, want: "a-pw",
		},
		{
			name:   "an unset group variable falls back to the global sources",
			groups: map[string]*HostGroup{"web": {Hosts: []string{"h1"}, SudoPasswordEnv: "WEB_PW"}},
			source: global, want: "global-pw",
		},
		{
			name:   "nothing anywhere",
			groups: map[string]*HostGroup{"web": {Hosts: []string{"h1"}, SudoPasswordEnv: "WEB_PW"}},
			source: none,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"WEB_PW", "A_PW", "B_PW"} {
				t.Setenv(k, tt.env[k])
				if tt.env[k] == "" {
					unsetenv(t, k)
				}
			}
			r := NewRegistry()
			r.Groups = tt.groups
			x := (&Executor{Registry: r, SudoPassword: tt.source}).newExecution()
			s, err := x.sudoFor(t.Context(), "h1", "root")
			if err != nil {
				t.Fatal(err)
			}
			pw, err := s.Password(t.Context())
			switch {
			case tt.want == "" && !errors.Is(err, responder.ErrNoPassword):
				t.Errorf("password %q, %v; want ErrNoPassword", pw, err)
			case tt.want != "" && (err != nil || pw != tt.want):
				t.Errorf("password %q, %v; want %q", pw, err, tt.want)
			}
		})
	}
}

// unsetenv removes k for the rest of the test; t.Setenv first, so that
// it is put back after.
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "")
	if err := os.Unsetenv(k); err != nil {
		t.Fatal(err)
	}
}
