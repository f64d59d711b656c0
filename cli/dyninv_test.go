package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestInventoryCommandOverSSH runs a task on a dynamic inventory's hosts
// (ssh_config aliases of a real sshd) with the vars it printed: each
// command runs once for the run, and hostile var values arrive on the
// host as their literal text, never creating the canary file.
func TestInventoryCommandOverSSH(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "h1", "h2")
	canary := filepath.Join(t.TempDir(), "pwned")
	hostile := "$(touch " + canary + ") `touch " + canary + "` '; touch " + canary + "; '"
	inv, err := json.Marshal(map[string]any{
		"hosts": []string{"h1", "h2"},
		"vars":  map[string]any{"role": hostile, "n": 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	file := writeTasks(t, `
[hosts.cloud]
command = "echo ran >> ran.log; cat inventory.json"
vars = { role = "", n = "0" }

[tasks.show]
hosts = ["@cloud"]
run = '''printf '%s|%s\n' {{.role}} 'n={{.n}}' '''

[tasks.again]
hosts = ["@cloud"]
run = "echo again {{.n}}"
`)
	dir := filepath.Dir(file)
	if err := os.WriteFile(filepath.Join(dir, "inventory.json"), inv, 0o644); err != nil {
		t.Fatal(err)
	}
	o := s.run(t, file, "show", "again")
	if _, err := os.Stat(canary); err == nil {
		t.Fatal("an inventory var ran as code on the host")
	}
	for _, want := range []string{"[h1] " + hostile + "|n=3", "[h2] " + hostile + "|n=3", "[h1] again 3", "[h2] again 3"} {
		if !strings.Contains(o.stdout, want+"\n") {
			t.Errorf("exit %d, stdout %q, want a line %q (stderr %q)", o.code, o.stdout, want, o.stderr)
		}
	}
	ran, err := os.ReadFile(filepath.Join(dir, "ran.log"))
	if err != nil || string(ran) != "ran\n" {
		t.Errorf("the inventory command ran %q times (err %v), want once", ran, err)
	}
}
