package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// A remote task's dir is a path on the host: its run steps start there,
// while its local steps run beside tasks.toml (or in their own dir, taken
// from there), never in the remote path.
func TestRemoteDirIsNotLocal(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "host1")
	remoteDir := t.TempDir()
	file := writeTasks(t, `
[tasks.deploy]
hosts = ["host1"]
dir = "`+remoteDir+`"
steps = [
  { run = "pwd > remote-pwd" },
  { local = "pwd > local-pwd" },
  { local = "pwd > sub-pwd", dir = "sub" },
]
`)
	here := filepath.Dir(file)
	if err := os.Mkdir(filepath.Join(here, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := s.run(t, file, "deploy")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", o.code, o.stderr)
	}
	for _, c := range []struct{ file, want string }{
		{filepath.Join(remoteDir, "remote-pwd"), remoteDir},
		{filepath.Join(here, "local-pwd"), here},
		{filepath.Join(here, "sub", "sub-pwd"), filepath.Join(here, "sub")},
	} {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Errorf("%v (the step ran elsewhere)", err)
			continue
		}
		if got := strings.TrimSpace(string(b)); got != c.want {
			t.Errorf("%s: ran in %s, want %s", filepath.Base(c.file), got, c.want)
		}
	}
}
