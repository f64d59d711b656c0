package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestLongLinesNeverMix: hosts printing lines far longer than the 64 KiB
// a line writer holds back, all at once. A long line is cut into lines
// of its own, each with its host's prefix, so no line a person sees
// holds two hosts' text, and no byte is lost.
func TestLongLinesNeverMix(t *testing.T) {
	t.Parallel()
	hosts := []string{"a", "b", "c", "d"}
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	file := writeTasks(t, `
[tasks.long]
run = '''
for i in 1 2 3 4 5 6 7 8; do
  head -c 300000 /dev/zero | tr '\0' "$GOTASK_HOST"
  echo
done
'''
`)
	o := s.run(t, file, "-H", strings.Join(hosts, ","), "long")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0", o.code)
	}
	line := regexp.MustCompile(`^\[([a-d])\] ([a-d]+)$`)
	total := map[string]int{}
	for i, l := range strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			at := strings.IndexAny(l[min(1, len(l)):], "[\x1b\r") + 1
			t.Fatalf("line %d is not one prefixed host's text (%d bytes; mixed at %d: %.40q)", i+1, len(l), at, l[max(0, at-10):])
		}
		if strings.Trim(m[2], m[1]) != "" {
			t.Fatalf("line %d of host %s holds another host's text: %.80q...", i+1, m[1], l)
		}
		total[m[1]] += len(m[2])
	}
	for _, h := range hosts {
		if total[h] != 8*300000 {
			t.Errorf("host %s: %d bytes shown, want %d", h, total[h], 8*300000)
		}
	}
}

// TestSummaryKeepsWhatToDo: a summary row shows the whole reason a host
// failed, however long: the end of a message is where it says what to
// do (here: rerun with --accept-new-host-keys), and a row cut at 120
// characters lost exactly that.
func TestSummaryKeepsWhatToDo(t *testing.T) {
	t.Parallel()
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSSH(t, sshtest.SSHDOptions{}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host stranger\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  UserKnownHostsFile %s\n", d.Port, d.User, empty)
	}, "known")
	file := writeTasks(t, "[tasks.t]\nrun = 'true'\n")
	o := s.run(t, file, "-H", "known,stranger", "t")
	if o.code == 0 {
		t.Fatalf("exit 0, want a failure for the unknown host")
	}
	row := summaryRows(t, o.stderr, "t")["stranger"]
	for _, want := range []string{"unreachable (", "is not known", "rerun with --accept-new-host-keys to trust it and record it)"} {
		if !strings.Contains(row, want) {
			t.Errorf("summary row for stranger %q does not say %q", row, want)
		}
	}
}

// TestFailingPasswordCommandSaysWhyOnce: a password command that fails
// shows its error output once, not live and again in gotask's error.
// Real sudo: the task's sudo asks for a password.
func TestFailingPasswordCommandSaysWhyOnce(t *testing.T) {
	e := newSudoEnv(t)
	cmd := e.script(t, "locked.sh", "echo 'vault is locked' >&2; exit 3")
	r := e.run(t, run{args: []string{"--sudo-password-cmd", cmd, "readline"}})
	r.wantNonZero(t)
	if !strings.Contains(r.stderr, `password command "`+cmd+`" failed`) {
		t.Errorf("stderr does not say the password command failed:\n%s", r)
	}
	if n := strings.Count(r.stderr, "vault is locked"); n != 1 {
		t.Errorf("the password command's error output shows %d times, want once:\n%s", n, r)
	}
}

// TestJSONHostEventKeepsWhatToDo: in JSON mode the host event carries
// the same whole reason, hint included, as a summary row would.
func TestJSONHostEventKeepsWhatToDo(t *testing.T) {
	t.Parallel()
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSSH(t, sshtest.SSHDOptions{}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host stranger\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  UserKnownHostsFile %s\n", d.Port, d.User, empty)
	}, "known")
	file := writeTasks(t, "[tasks.t]\nrun = 'true'\n")
	o := s.run(t, file, "--output", "json", "-H", "known,stranger", "t")
	if o.code == 0 {
		t.Fatalf("exit 0, want a failure for the unknown host")
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(o.stdout), "\n") {
		var ev struct{ Type, Host, Status, Error string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stdout line %q: %v", line, err)
		}
		if ev.Type != "host" || ev.Host != "stranger" {
			continue
		}
		found = true
		if ev.Status != "unreachable" || !strings.Contains(ev.Error, "is not known") ||
			!strings.HasSuffix(ev.Error, "rerun with --accept-new-host-keys to trust it and record it") {
			t.Errorf("host event for stranger: %+v; want unreachable, saying what to do", ev)
		}
	}
	if !found {
		t.Fatalf("no host event for stranger in:\n%s", o.stdout)
	}
}
