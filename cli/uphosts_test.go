package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// sshAncestor says whether an ancestor of pid is sshd (or OpenSSH's
// sshd-session): the process runs in an SSH session.
func sshAncestor(pid int) bool {
	for range 64 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open {
			return false
		}
		if strings.HasPrefix(string(b[open+1:end]), "sshd") {
			return true
		}
		f := strings.Fields(string(b[end+1:]))
		if len(f) < 2 {
			return false
		}
		if pid, err = strconv.Atoi(f[1]); err != nil || pid <= 1 {
			return false
		}
	}
	return false
}

// TestUpServicesOnHosts: gotask up runs a service with hosts = ["h1",
// "h2"] (both the test's sshd) as one process group per host, in SSH
// sessions; output is prefixed with host and instance; a hostile var
// stays literal on the remote shell; tcp readiness gates a dependant;
// a crash on h1 restarts there (its leftover children killed) while
// h2 keeps its pid; an unreachable host, and one whose key is not known,
// fail their instance only, named; Ctrl-C stops both remote process
// groups.
func TestUpServicesOnHosts(t *testing.T) {
	if _, err := exec.LookPath("nc"); err != nil {
		sshtest.MissingPeer(t, "no nc (netcat) for a listener on the host")
	}
	down := closedPort(t)
	s := newSSH(t, sshtest.SSHDOptions{}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host down\n  HostName 127.0.0.1\n  Port %d\n  User %s\n", down, d.User) +
			// The sshd again, under a name whose key is not known.
			fmt.Sprintf("Host stranger\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  UserKnownHostsFile /dev/null", d.Port, d.User)
	}, "h1", "h2")
	dir := t.TempDir()
	p1, p2 := closedPort(t), closedPort(t)
	for p2 == p1 {
		p2 = closedPort(t)
	}
	doc := fmt.Sprintf(`
[vars]
evil = "placeholder"

[host_vars.h1]
port = "%d"

[host_vars.h2]
port = "%d"

[services.api]
hosts = ["h1", "h2"]
dir = %q
run = """
echo $$ > {{.host}}.pid.tmp && mv {{.host}}.pid.tmp {{.host}}.pid
echo api on {{.host}} got {{.evil}}
while [ ! -f go ]; do sleep 0.1; done
sleep 300 &
echo $! > {{.host}}.child
nc -lk 127.0.0.1 {{.port}} &
while [ ! -f {{.host}}.crash ]; do sleep 0.1; done
rm -f {{.host}}.crash
exit 3
"""
ready = { tcp = "127.0.0.1:{{.port}}" }
backoff = "0"

[services.web]
deps = ["api"]
run = "if nc -z 127.0.0.1 %d && nc -z 127.0.0.1 %d; then echo listening > web.ok; else echo not > web.ok; fi; exec sleep 300"

[services.lone]
hosts = ["down", "h2", "stranger"]
run = "echo lone here; exec sleep 300"
`, p1, p2, dir, p1, p2)
	file := filepath.Join(dir, "tasks.toml")
	writeFile(t, file, doc)

	list, err := exec.Command(gotaskBinary(t), "-f", file, "-l").CombinedOutput()
	if err != nil || !strings.Contains(string(list), "  lone on down, h2, stranger  ") {
		t.Errorf("gotask -l does not list lone's hosts (%v):\n%s", err, list)
	}

	hostile := `$(touch pwned1)` + "`touch pwned2`" + `'; touch pwned3`
	cmd := exec.Command(gotaskBinary(t), "-f", file, "-F", s.Config, "--var", "evil="+hostile, "up")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var all []int // every remote process seen, killed at the end in any case
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		for _, pid := range all {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("gotask up printed:\n%s", out)
		}
	})
	pid := func(name string) int {
		p := readPid(t, filepath.Join(dir, name))
		all = append(all, p)
		return p
	}
	h1, h2 := pid("h1.pid"), pid("h2.pid")
	for host, p := range map[string]int{"h1": h1, "h2": h2} {
		if !sshAncestor(p) {
			t.Errorf("%s's instance (pid %d) does not run in an SSH session", host, p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "web.ok")); err == nil {
		t.Errorf("web started before api listened on both hosts")
	}
	writeFile(t, filepath.Join(dir, "go"), "")
	h1child, h2child := pid("h1.child"), pid("h2.child")
	waitFor(t, "web to start", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "web.ok"))
		return bytes.HasSuffix(b, []byte("\n"))
	})
	if b, _ := os.ReadFile(filepath.Join(dir, "web.ok")); string(b) != "listening\n" {
		t.Errorf("web started while api did not listen on both hosts: %q", b)
	}
	// And the stranger's refusal: its handshake may still be going on
	// (a busy machine) when the others are up, and a stop then would
	// find it connecting rather than failed.
	waitFor(t, "lone on h2, the stranger's refusal and the ready line", func() bool {
		return regexp.MustCompile(`\[h2 lone\] +lone here\n`).MatchString(out.String()) &&
			strings.Contains(out.String(), "gotask: stranger lone: failed: ") &&
			strings.Contains(out.String(), "gotask: up: ")
	})

	// A crash on h1: restarted there; h2's instance is left alone.
	writeFile(t, filepath.Join(dir, "h1.crash"), "")
	var again int
	waitFor(t, "h1's instance to restart", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "h1.pid"))
		if err != nil {
			return false
		}
		again, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && again != h1
	})
	all = append(all, again)
	waitFor(t, "h1's old child to be killed", func() bool { return gone(h1child) })
	if gone(h2) || gone(h2child) {
		t.Errorf("h2's instance (pid %d, child %d) ended when h1's crashed", h2, h2child)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "h2.pid")); strings.TrimSpace(string(b)) != strconv.Itoa(h2) {
		t.Errorf("h2's instance changed: %q, was %d", b, h2)
	}
	waitFor(t, "h1's new child", func() bool {
		c := readPid(t, filepath.Join(dir, "h1.child"))
		if c != h1child {
			all = append(all, c)
		}
		return c != h1child
	})
	newChild := all[len(all)-1]

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd); code != 1 {
		t.Errorf("exit status %d, want 1 (an instance failed: its host is down)", code)
	}
	for name, p := range map[string]int{"h1 shell": again, "h1 child": newChild, "h2 shell": h2, "h2 child": h2child} {
		if !gone(p) {
			t.Errorf("%s (pid %d) outlived gotask up", name, p)
		}
	}
	got := out.String()
	for _, re := range []string{
		`\[h1 api\] +api on h1 got \$\(touch pwned1\)` + "`touch pwned2`" + `'; touch pwned3\n`,
		`\[h2 api\] +api on h2 got \$\(touch pwned1\)`,
		`gotask: h1 api: exit 3; restarting`,
		`gotask: down lone: failed: host down: `,
		`\n  h1 api +stopped +restarts 1 `,
		`\n  h2 api +stopped +restarts 0 `,
		`\n  down lone +failed .*host down`,
		`\n  h2 lone +stopped `,
		`gotask: stranger lone: failed: host stranger: .*is not known`,
		`\n  stranger lone +failed `,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("the output lacks %s", re)
		}
	}
	if strings.Contains(got, "gotask-exit") || strings.Contains(got, "gotask-pid") {
		t.Errorf("a report of the remote shell reached the output")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "pwned*")); len(m) > 0 {
		t.Errorf("a var ran as code on the host: %v", m)
	}
}
