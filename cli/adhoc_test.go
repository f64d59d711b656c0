package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// hostLines maps "[host] text" lines to host -> text (the last line of
// each host wins).
func hostLines(stdout string) map[string]string {
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if h, rest, ok := strings.Cut(strings.TrimPrefix(l, "["), "] "); ok {
			got[h] = rest
		}
	}
	return got
}

// TestAdHocCommandOverSSH: gotask -H h1,h2 -- COMMAND runs the command,
// as typed, on both hosts of a real sshd, with each line prefixed by its
// host and a summary; a group from a tasks.toml holding only [hosts]
// works as -H @group; a failing command gives the exit code a task would.
func TestAdHocCommandOverSSH(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "h1", "h2")
	hostsOnly := writeTasks(t, "[hosts]\nweb = [\"h1\", \"h2\"]\n")
	mark := filepath.Join(t.TempDir(), "ran")
	// The command is shell text as the user typed it: its expansions,
	// quotes and braces reach the host's shell unchanged.
	cmd := `echo "port ${SSH_CONNECTION##* }" '{{.x}}' $((6*7)) && echo ok >> ` + mark
	for _, hosts := range []string{"h1,h2", "@web"} {
		o := s.run(t, hostsOnly, "-H", hosts, "--", cmd)
		got := hostLines(o.stdout)
		want := fmt.Sprintf("port %d {{.x}} 42", s.d.Port)
		if o.code != 0 || got["h1"] != want || got["h2"] != want {
			t.Errorf("-H %s: exit %d, lines %q, want each host to print %q", hosts, o.code, got, want)
		}
		if !strings.Contains(o.stderr+o.stdout, "2 of 2 hosts ok") {
			t.Errorf("-H %s: no summary saying 2 of 2 hosts ok", hosts)
		}
	}
	if data, _ := os.ReadFile(mark); string(data) != strings.Repeat("ok\n", 4) {
		t.Errorf("the hosts appended %q to the mark file, want 4 lines of ok", data)
	}
	// Words after -- are joined with spaces, as ssh joins them.
	if o := s.run(t, hostsOnly, "-H", "h1", "--", "echo", "a", "b"); o.code != 0 || strings.TrimSpace(o.stdout) != "a b" {
		t.Errorf("-- echo a b: exit %d, stdout %q, want a b", o.code, o.stdout)
	}

	tasks := writeTasks(t, "[tasks.fail]\nhosts = [\"h1\", \"h2\"]\nrun = \"exit 3\"\n")
	want := s.run(t, tasks, "fail").code
	if want == 0 {
		t.Fatal("a task failing with exit 3 exits 0")
	}
	if o := s.run(t, hostsOnly, "-H", "h1,h2", "--", "exit 3"); o.code != want {
		t.Errorf("ad-hoc exit 3 on two hosts: exit %d, want %d as for a task", o.code, want)
	}
}

// TestAdHocSudoOverSSH: --sudo runs the ad-hoc command through sudo on
// each host, answering its prompt from the same password sources as a
// task's sudo (here GOTASK_SUDO_PASSWORD).
func TestAdHocSudoOverSSH(t *testing.T) {
	sudoUser, password := os.Getenv(sudoUserEnv), os.Getenv(sudoPasswordEnv)
	if sudoUser == "" || password == "" {
		sshtest.MissingPeer(t, sudoUserEnv+" and "+sudoPasswordEnv+" are not set (.ci/run creates that user, whose sudo asks for its password, and sets them)")
	}
	if os.Geteuid() != 0 {
		sshtest.MissingPeer(t, "logging in to the test sshd as "+sudoUser+" needs the test to run as root")
	}
	s := newSSH(t, sshtest.SSHDOptions{AnyUser: true}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host s1 s2\n  HostName 127.0.0.1\n  Port %d\n  User %s\n", d.Port, sudoUser)
	})
	hostsOnly := writeTasks(t, "[hosts]\nweb = [\"s1\", \"s2\"]\n")
	t.Setenv("GOTASK_SUDO_PASSWORD", password)
	o := s.run(t, hostsOnly, "-H", "@web", "--sudo", "--", "id -un")
	if got := hostLines(o.stdout); o.code != 0 || got["s1"] != "root" || got["s2"] != "root" {
		t.Errorf("--sudo -- id -un: exit %d, lines %q, want root on s1 and s2", o.code, got)
	}
	if strings.Contains(o.stdout+o.stderr, password) {
		t.Error("the sudo password shows in gotask's output")
	}
	o = s.run(t, hostsOnly, "-H", "@web", "--", "id -un")
	if got := hostLines(o.stdout); o.code != 0 || got["s1"] != sudoUser {
		t.Errorf("without --sudo: exit %d, lines %q, want %s", o.code, got, sudoUser)
	}
}
