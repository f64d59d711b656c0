package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gotask/gotask/internal/sshtest"
)

// checkRows parses the --check-hosts table: host -> its columns after
// the name (key, auth, sudo, why).
func checkRows(t *testing.T, stdout string) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) == 0 || !regexp.MustCompile(`^HOST +KEY +AUTH +SUDO`).MatchString(lines[0]) {
		t.Fatalf("no --check-hosts table heading in %q", stdout)
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 4 {
			t.Fatalf("short row %q", l)
		}
		rows[f[0]] = append(f[1:4], strings.Join(f[4:], " "))
	}
	return rows
}

// TestCheckHosts: --check-hosts connects to every host and says, per
// host, whether the host key was verified and the login accepted: a host
// whose key known_hosts lacks fails with the key's fingerprint, a
// login refused (no such user) fails authentication, a closed port checks nothing; the
// run fails, and nothing ran on any host.
func TestCheckHosts(t *testing.T) {
	t.Parallel()
	dead := closedPort(t)
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSSH(t, sshtest.SSHDOptions{}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host stranger\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  UserKnownHostsFile %s\n"+
			"Host refused\n  HostName 127.0.0.1\n  Port %d\n  User gotask-no-such-user\n"+
			"Host dead\n  HostName 127.0.0.1\n  Port %d\n",
			d.Port, d.User, empty, d.Port, dead)
	}, "h1", "h2")
	dir := t.TempDir()
	file := writeTasks(t, `
[tasks.deploy]
hosts = ["h1", "stranger", "h2", "refused", "dead"]
run = "touch '`+dir+`/ran-$GOTASK_HOST'"
`)
	o := s.run(t, file, "--check-hosts", "deploy")
	if o.code != 1 {
		t.Errorf("exit %d, want 1", o.code)
	}
	rows := checkRows(t, o.stdout)
	fp := ssh.FingerprintSHA256(s.d.HostKey)
	want := map[string]*regexp.Regexp{
		"h1":       regexp.MustCompile(`^ok ok - $`),
		"h2":       regexp.MustCompile(`^ok ok - $`),
		"stranger": regexp.MustCompile(`^failed - - connecting to stranger .*is not known.* ` + regexp.QuoteMeta(fp) + `; .*--accept-new-host-keys`),
		"refused":  regexp.MustCompile(`^ok failed - .*unable to authenticate`),
		"dead":     regexp.MustCompile(`^- - - .*` + fmt.Sprint(dead) + `.*refused`),
	}
	for h, re := range want {
		if got := strings.Join(rows[h], " "); !re.MatchString(got) {
			t.Errorf("row of %s = %q, want it to match %s", h, got, re)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("%d rows, want %d", len(rows), len(want))
	}
	if got := markers(t, dir); len(got) != 0 {
		t.Errorf("--check-hosts ran the task: %v", got)
	}

	// Nothing to check: a usage error, not the default task's hosts.
	o = s.run(t, file, "--check-hosts")
	if o.code != 2 || !strings.Contains(o.stderr, "--check-hosts needs hosts") {
		t.Errorf("no hosts: exit %d, stderr %q; want 2 and what to give", o.code, o.stderr)
	}
	o = s.run(t, file, "--check-hosts", "-H", "@nosuch")
	if o.code != 2 || !strings.Contains(o.stderr, `unknown host group "nosuch"`) {
		t.Errorf("unknown group: exit %d, stderr %q; want 2 and the group named", o.code, o.stderr)
	}

	// -H alone, every host fine: exit 0.
	o = s.run(t, file, "--check-hosts", "-H", "h1,h2")
	if o.code != 0 {
		t.Errorf("all hosts fine: exit %d, want 0", o.code)
	}
	if rows := checkRows(t, o.stdout); len(rows) != 2 || strings.Join(rows["h2"], " ") != "ok ok - " {
		t.Errorf("all hosts fine: rows %q", rows)
	}
}

// TestCheckHostsSudo: for a task that uses sudo, --check-hosts runs a
// command that does nothing through sudo, as the task's commands would,
// as the sudo test user whose sudo always asks for its password: the
// right password passes, a wrong one fails the host, and neither shows.
func TestCheckHostsSudo(t *testing.T) {
	sudoUser, password := os.Getenv(sudoUserEnv), os.Getenv(sudoPasswordEnv)
	if sudoUser == "" || password == "" {
		sshtest.MissingPeer(t, sudoUserEnv+" and "+sudoPasswordEnv+" are not set (.ci/run creates that user, whose sudo asks for its password, and sets them)")
	}
	if os.Geteuid() != 0 {
		sshtest.MissingPeer(t, "logging in to the test sshd as "+sudoUser+" needs the test to run as root")
	}
	s := newSSH(t, sshtest.SSHDOptions{AnyUser: true}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host sudo1 sudo2\n  HostName 127.0.0.1\n  Port %d\n  User %s\n", d.Port, sudoUser)
	})
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	file := writeTasks(t, `
[tasks.root]
hosts = ["sudo1", "sudo2"]
sudo = true
run = "touch '`+dir+`/ran-$GOTASK_HOST'"

[tasks.plain]
hosts = ["sudo1"]
run = "touch '`+dir+`/ran-$GOTASK_HOST'"
`)
	for _, tt := range []struct {
		name, password, sudo string
		code                 int
	}{
		{name: "right password", password: password, sudo: "ok", code: 0},
		{name: "wrong password", password: "not-" + password, sudo: "failed", code: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOTASK_SUDO_PASSWORD", tt.password)
			o := s.run(t, file, "--check-hosts", "root")
			if o.code != tt.code {
				t.Errorf("exit %d, want %d", o.code, tt.code)
			}
			rows := checkRows(t, o.stdout)
			for _, h := range []string{"sudo1", "sudo2"} {
				if got := rows[h]; len(got) < 3 || got[0] != "ok" || got[1] != "ok" || got[2] != tt.sudo {
					t.Errorf("row of %s = %q, want ok ok %s", h, got, tt.sudo)
				}
			}
			if tt.sudo == "failed" && !strings.Contains(o.stdout, "sudo as root") {
				t.Errorf("the failed row does not say which sudo failed")
			}
			for _, pw := range []string{password, tt.password} {
				if strings.Contains(o.stdout+o.stderr, pw) {
					t.Errorf("the output shows a password")
				}
			}
			if got := markers(t, dir); len(got) != 0 {
				t.Errorf("--check-hosts ran the task: %v", got)
			}
		})
	}
	// A task without sudo checks no password: none is needed.
	t.Setenv("GOTASK_SUDO_PASSWORD", "")
	o := s.run(t, file, "--check-hosts", "plain")
	if rows := checkRows(t, o.stdout); o.code != 0 || strings.Join(rows["sudo1"], " ") != "ok ok - " {
		t.Errorf("task without sudo: exit %d, rows %q; want 0 and ok ok -", o.code, rows)
	}
}
