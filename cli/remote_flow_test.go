package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestRemoteFlow runs v2 control flow through a real sshd: the words
// after -- reach the host as literal words, a step's if and until run on
// the host (where sshd sets SSH_CONNECTION) and a local step's on this
// machine, a remote task's if and preconditions run here without its
// host dir, and a cleanup runs on the host after a failing step.
func TestRemoteFlow(t *testing.T) {
	t.Setenv("SSH_CONNECTION", "") // this machine's side, whatever the test runs under
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "web")
	dir := t.TempDir()
	canary := filepath.Join(dir, "pwned")
	file := writeTasks(t, `
[tasks.words]
hosts = ["web"]
run = "printf '[%s]' {{.ARGS}}"

[tasks.where]
hosts = ["web"]
steps = [
  { run = "echo host-if-true", if = "test -n \"$SSH_CONNECTION\"" },
  { run = "echo host-if-false", if = "test -z \"$SSH_CONNECTION\"" },
  { local = "echo local-if-true", if = "test -z \"$SSH_CONNECTION\"" },
  { run = "echo x >> `+dir+`/tries", retries = 3, until = "test -n \"$SSH_CONNECTION\" && test $(wc -l < `+dir+`/tries) -ge 2" },
]

[tasks.skipremote]
hosts = ["web"]
dir = "/nonexistent/gotask-host-only-dir"
preconditions = [{ sh = "true" }]
if = "false"
run = "echo never"

[tasks.cleanup]
hosts = ["web"]
steps = [
  { defer = "test -n \"$SSH_CONNECTION\" && touch `+dir+`/cleaned" },
  { run = "exit 5" },
]
`)
	hostile := []string{"$(touch " + canary + ")", "'; touch " + canary + "; '", "a b", ""}
	o := s.run(t, file, append([]string{"words", "--"}, hostile...)...)
	if _, err := os.Stat(canary); err == nil {
		t.Fatal("a word after -- ran as code on the host")
	}
	want := "[$(touch " + canary + ")]['; touch " + canary + "; '][a b][]"
	if o.code != 0 || o.stdout != want {
		t.Errorf("words: exit %d, stdout %q, want %q", o.code, o.stdout, want)
	}

	o = s.run(t, file, "where")
	if o.code != 0 || o.stdout != "host-if-true\nlocal-if-true\n" {
		t.Errorf("where: exit %d, stdout %q, want the host-true and local-true steps only", o.code, o.stdout)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "tries")); err != nil || string(b) != "x\nx\n" {
		t.Errorf("until on the host: tries %q (%v), want two runs", b, err)
	}

	// A remote task's dir is a path on its hosts: its if and
	// preconditions, which run here, do not go there.
	o = s.run(t, file, "skipremote")
	if o.code != 0 || o.stdout != "" {
		t.Errorf("skipremote: exit %d, stdout %q, want a skipped task", o.code, o.stdout)
	}

	o = s.run(t, file, "cleanup")
	if o.code != 5 {
		t.Errorf("cleanup: exit %d, want the failing step's 5", o.code)
	}
	if _, err := os.Stat(filepath.Join(dir, "cleaned")); err != nil {
		t.Errorf("the cleanup did not run on the host after the failing step: %v", err)
	}
}
