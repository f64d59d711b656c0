package cli_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestParallelLoopOnManyHosts: on a task of several hosts, a parallel
// loop's lines carry the host's prefix first and then the item's, so a
// line of one host can never pass for another's.
func TestParallelLoopOnManyHosts(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 2)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	file := writeTasks(t, `
[tasks.build]
steps = [{ run = "echo {{.host}} builds {{.item}}; echo {{.host}} {{.item}} >&2", for = ["linux", "darwin"], parallel = 2 }]
`)
	o := s.run(t, file, "-H", strings.Join(hosts, ","), "build")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", o.code, o.stderr)
	}
	line := regexp.MustCompile(`^\[(host\d)\] \[(linux|darwin)\] +(host\d) builds (linux|darwin)$`)
	seen := 0
	for _, l := range strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil || m[1] != m[3] || m[2] != m[4] {
			t.Fatalf("line %q: want [host] [item] and that host's and item's text; stdout:\n%s", l, o.stdout)
		}
		seen++
	}
	if seen != 4 {
		t.Errorf("%d lines, want 4 (2 hosts x 2 items):\n%s", seen, o.stdout)
	}
	errLine := regexp.MustCompile(`(?m)^\[host1\] \[linux\] +host1 linux$`)
	if !errLine.MatchString(o.stderr) {
		t.Errorf("stderr lacks host1's linux line with both prefixes:\n%s", o.stderr)
	}
}
