package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner/remote"
	"github.com/gotask/gotask/task"
)

// TestHint: each typed error of the lower packages that a flag can fix
// gets that flag named when cli prints it, however deeply it is wrapped;
// a host key that changed gets no flag (there is none to pass: the user
// must check and fix known_hosts), and a multi-host count gets none (its
// rows had theirs).
func TestHint(t *testing.T) {
	wrap := func(err error) error {
		return &task.TaskError{Task: "t", Host: "web1", Err: fmt.Errorf("connecting: %w", err)}
	}
	tests := []struct {
		name string
		err  error
		want string // in the printed message; "" for no hint
	}{
		{"unknown host key", wrap(&remote.HostKeyError{Host: "web1:22", Fingerprint: "SHA256:x"}), "; check that fingerprint with the host's administrator, then rerun with --accept-new-host-keys"},
		{"changed host key", wrap(&remote.HostKeyError{Host: "web1:22", Changed: true}), ""},
		{"revoked host key", wrap(&remote.HostKeyError{Host: "web1:22", Revoked: true}), ""},
		{"bad ssh_config", wrap(&remote.ConfigFileError{File: "cfg", Line: 2, Msg: "bad Port"}), "cfg:2: bad Port (fix the file); or pass another with --ssh-config FILE"},
		{"wrong sudo password", wrap(&responder.AuthError{Task: "t"}), "; check GOTASK_SUDO_PASSWORD or --sudo-password-cmd"},
		{"no one to confirm", fmt.Errorf("task t: asks %q and %w", "sure?", task.ErrNoAnswer), "; pass --yes to run it anyway"},
		{"no hosts left", &task.ArgError{Task: "t", Err: fmt.Errorf("%w: none", task.ErrNoHostsLeft)}, "; check --only and --exclude"},
		{"unknown task", &task.UnknownTaskError{Name: "zz"}, `unknown task "zz"; run gotask -l to list the tasks`},
		{"unknown task with a suggestion", &task.UnknownTaskError{Name: "buld", Suggestion: "build"}, ""},
		{"other", wrap(errors.New("boom")), ""},
		{"count of several hosts", &task.HostsError{Task: "t"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withHint(tt.err)
			if tt.want == "" {
				if got != tt.err.Error() {
					t.Errorf("withHint = %q, want the message alone, %q", got, tt.err.Error())
				}
				return
			}
			if !strings.HasPrefix(got, tt.err.Error()) || !strings.Contains(got, tt.want) {
				t.Errorf("withHint = %q, want %q followed by %q", got, tt.err.Error(), tt.want)
			}
		})
	}
}
