package cli_test

import (
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestMaxIdleHostsOverSSH: with --max-idle-hosts 0 a host is
// disconnected as soon as a task is done there, so the next task on it
// logs in again; by default its connection is kept for the next task.
func TestMaxIdleHostsOverSSH(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "h1")
	file := writeTasks(t, "[tasks.a]\nhosts = [\"h1\"]\nrun = \"true\"\n[tasks.b]\nhosts = [\"h1\"]\nrun = \"true\"\n")
	logins := func() int { return strings.Count(s.d.Log(), "Accepted publickey for") }
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"a", "b"}, 1},
		{[]string{"--max-idle-hosts", "0", "a", "b"}, 2},
	} {
		before := logins()
		if o := s.run(t, file, tt.args...); o.code != 0 {
			t.Fatalf("%v: exit %d", tt.args, o.code)
		}
		if got := logins() - before; got != tt.want {
			t.Errorf("%v: %d logins on the host, want %d", tt.args, got, tt.want)
		}
	}
}
