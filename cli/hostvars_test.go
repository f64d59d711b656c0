package cli_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestHostVarsOverSSH runs a task on two hosts of a group through a real
// sshd: each host gets its own host_vars and the group's vars, --var
// beats both, and hostile values (in a group's vars and in host_vars)
// arrive as their literal text, never creating the canary file.
func TestHostVarsOverSSH(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "h1", "h2")
	canary := filepath.Join(t.TempDir(), "pwned")
	hostile := []string{"$(touch " + canary + ")", "`touch " + canary + "`", "'; touch " + canary + "; '",
		`"; touch ` + canary + `; "`, "x && touch " + canary, `\`, "*"}
	q := strconv.Quote // a TOML basic string accepts Go's quoting of these
	file := writeTasks(t, `
[vars]
role = "none"
shard = "0"

[hosts.web]
hosts = ["h1", "h2"]
vars = { role = `+q(hostile[0])+`, zone = "eu" }

[host_vars.h1]
shard = `+q(hostile[1])+`
role = "primary"

[host_vars.h2]
shard = `+q(strings.Join(hostile[2:], " "))+`

[tasks.show]
hosts = ["@web"]
run = '''printf '%s|%s|%s\n' {{.role}} "{{.shard}}" 'z={{.zone}}' '''
`)
	lines := func(stdout string) map[string]string {
		got := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
			if h, rest, ok := strings.Cut(strings.TrimPrefix(l, "["), "] "); ok {
				got[h] = rest
			}
		}
		return got
	}
	o := s.run(t, file, "show")
	if _, err := os.Stat(canary); err == nil {
		t.Fatal("a host var ran as code on the host")
	}
	want := map[string]string{
		"h1": "primary|" + hostile[1] + "|z=eu",
		"h2": hostile[0] + "|" + strings.Join(hostile[2:], " ") + "|z=eu",
	}
	got := lines(o.stdout)
	if o.code != 0 || got["h1"] != want["h1"] || got["h2"] != want["h2"] {
		t.Errorf("exit %d, lines %q, want %q", o.code, got, want)
	}

	o = s.run(t, file, "--var", "shard=cli", "--var", "zone=us", "show")
	want = map[string]string{"h1": "primary|cli|z=us", "h2": hostile[0] + "|cli|z=us"}
	if got := lines(o.stdout); o.code != 0 || got["h1"] != want["h1"] || got["h2"] != want["h2"] {
		t.Errorf("with --var: exit %d, lines %q, want %q", o.code, got, want)
	}
}
