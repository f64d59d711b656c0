package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestRemoteValuesAreLiteral sends hostile values through a real sshd in
// the representative contexts, both through the login shell (no env) and
// through the sh -c that env makes: each arrives as its exact text, and
// the canary file, named by absolute path, is never created.
func TestRemoteValuesAreLiteral(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "web")
	canary := filepath.Join(t.TempDir(), "pwned")
	var toml strings.Builder
	contexts := []struct{ name, run, prefix, suffix string }{
		{"word", `printf '%s|' {{.v}}`, "", "|"},
		{"double", `printf '%s|' "msg: {{.v}}!"`, "msg: ", "!|"},
		{"single", `printf '%s|' 'msg: {{.v}}!'`, "msg: ", "!|"},
		{"default", `printf '%s|' "${GOTASK_UNSET:-{{.v}}}"`, "", "|"},
		{"heredoc", "cat <<EOF\nmsg: {{.v}}!\nEOF", "msg: ", "!\n"},
		{"quotedheredoc", "cat <<'EOF'\nmsg: {{.v}}!\nEOF", "msg: ", "!\n"},
	}
	for _, c := range contexts {
		for _, env := range []string{"", `env = { GOTASK_X = "1" }`} {
			name := c.name
			if env != "" {
				name += "_sh"
			}
			toml.WriteString("[tasks." + name + "]\nargs = [{ name = \"v\" }]\n" + env + "\nrun = '''\n" + c.run + "'''\n\n")
		}
	}
	file := writeTasks(t, toml.String())
	values := []string{"$(touch " + canary + ")", "`touch " + canary + "`", "'; touch " + canary + "; '",
		`"; touch ` + canary + `; "`, "a\nb", `\`, "*", "", "x && touch " + canary}
	// One run per value, calling every task: one connection each.
	for _, v := range values {
		var args []string
		var want strings.Builder
		for _, c := range contexts {
			for _, suffix := range []string{"", "_sh"} {
				args = append(args, c.name+suffix, "--v", v)
				want.WriteString(c.prefix + v + c.suffix)
			}
		}
		o := s.run(t, file, append([]string{"-H", "web"}, args...)...)
		if _, err := os.Stat(canary); err == nil {
			t.Fatalf("--v %q: the value ran as code on the host", v)
		}
		if o.code != 0 || o.stdout != want.String() {
			t.Errorf("--v %q: exit %d, stdout %q, want %q", v, o.code, o.stdout, want.String())
		}
	}
}
