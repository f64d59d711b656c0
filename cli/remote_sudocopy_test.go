package cli_test

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestRemoteSudoPutGet logs in as the unprivileged sudo test user and
// copies into and out of a directory only root may enter: with
// sudo = true the put writes the file as root (owner root, the mode
// asked for) and the get reads a root-only file, each verified, with the
// password answered as for commands. Without sudo the same put is
// refused.
func TestRemoteSudoPutGet(t *testing.T) {
	sudoUser, password := os.Getenv("GOTASK_TEST_SUDO_USER"), os.Getenv("GOTASK_TEST_SUDO_PASSWORD")
	if sudoUser == "" || password == "" {
		sshtest.MissingPeer(t, "GOTASK_TEST_SUDO_USER and GOTASK_TEST_SUDO_PASSWORD are not set (.ci/run creates that user, whose sudo asks for its password, and sets them)")
	}
	if os.Geteuid() != 0 {
		sshtest.MissingPeer(t, "logging in to the test sshd as "+sudoUser+" needs the test to run as root")
	}
	u, err := user.Lookup(sudoUser)
	if err != nil {
		t.Fatalf("GOTASK_TEST_SUDO_USER=%s: %v", sudoUser, err)
	}
	s := newSSH(t, sshtest.SSHDOptions{AnyUser: true}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host sudohost\n  HostName 127.0.0.1\n  Port %d\n  User %s\n", d.Port, sudoUser)
	})
	// Root's own directory, closed to the login user.
	rootDir, err := os.MkdirTemp("", "gotask-rootonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rootDir) })
	if err := os.Mkdir(filepath.Join(rootDir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	secret := "root's secret\x00\xff binary\n"
	if err := os.WriteFile(filepath.Join(rootDir, "secret.bin"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeTasks(t, strings.ReplaceAll(`
[tasks.plain]
steps = [{ put = "app.conf", to = "ROOT/app.conf" }]

[tasks.deploy]
steps = [
  { put = "app.conf", to = "ROOT/app.conf", mode = "0640", sudo = true },
  { put = "app.conf", to = "ROOT/sub/", sudo = true },
  { put = "app.conf", to = "ROOT/we'ird $(touch pwned) name", sudo = true },
  { get = "ROOT/secret.bin", to = "back.bin", sudo = true },
]
`, "ROOT", rootDir))
	local := filepath.Dir(file)
	conf := "listen = 8080\n" + strings.Repeat("x", 300<<10) + "\n"
	if err := os.WriteFile(filepath.Join(local, "app.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOTASK_SUDO_PASSWORD", password)

	if o := s.run(t, file, "-H", "sudohost", "plain"); o.code == 0 {
		t.Fatalf("a put into root's directory without sudo succeeded")
	}
	o := s.run(t, file, "-H", "sudohost", "deploy")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", o.code, o.stderr)
	}
	got, err := os.ReadFile(filepath.Join(rootDir, "app.conf"))
	if err != nil || string(got) != conf {
		t.Fatalf("put with sudo: %d bytes, %v; want the %d bytes of app.conf", len(got), err, len(conf))
	}
	st, err := os.Stat(filepath.Join(rootDir, "app.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if uid := st.Sys().(*syscall.Stat_t).Uid; uid != 0 || st.Mode().Perm() != 0o640 {
		t.Errorf("put with sudo: owner %d, mode %v; want root's file with mode 0640", uid, st.Mode().Perm())
	}
	// Into a directory, under the source's name and mode.
	st, err = os.Stat(filepath.Join(rootDir, "sub", "app.conf"))
	if err != nil || st.Sys().(*syscall.Stat_t).Uid != 0 || st.Mode().Perm() != 0o644 {
		t.Errorf("put with sudo into sub/: %v, %v; want root's file with app.conf's mode 0644", st, err)
	}
	// A destination name is one literal word, never code.
	if _, err := os.Stat(filepath.Join(rootDir, "we'ird $(touch pwned) name")); err != nil {
		t.Errorf("put with sudo to an odd name: %v", err)
	}
	for _, dir := range []string{rootDir, u.HomeDir} { // where the commands run
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			os.Remove(filepath.Join(dir, "pwned"))
			t.Errorf("a destination name was run as a command")
		}
	}
	back, err := os.ReadFile(filepath.Join(local, "back.bin"))
	if err != nil || string(back) != secret {
		t.Errorf("get with sudo brought back %q, %v; want %q", back, err, secret)
	}
	if strings.Contains(o.stdout+o.stderr, password) {
		t.Errorf("the sudo password shows in the output")
	}
	entries, _ := os.ReadDir(rootDir)
	for _, e := range entries {
		if e.Name() != "app.conf" && e.Name() != "secret.bin" && e.Name() != "sub" && !strings.HasPrefix(e.Name(), "we'ird") {
			t.Errorf("left behind in the destination: %s", e.Name())
		}
	}
}
