package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// Resumable deploys through the CLI against a real sshd: every run
// records each host's result in .gotask/hosts beside tasks.toml, and
// --retry-failed / --resume read it back.

// resumeTasks is a task that leaves a marker per host in ran, fails on a
// host while fail/<host> exists, and on a host blocks until interrupted
// while block/<host> exists. token is a var whose value must never reach
// the disk.
func resumeTasks(t *testing.T, dir, comment string) string {
	t.Helper()
	for _, d := range []string{"ran", "fail", "block"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return writeTasks(t, `
[vars]
token = "placeholder"

[tasks.deploy]
run = '''
# `+comment+`
: '{{.token}}'
touch '`+dir+`/ran/'"$GOTASK_HOST"
if [ -e '`+dir+`/fail/'"$GOTASK_HOST" ]; then echo "failing"; exit 4; fi
if [ -e '`+dir+`/block/'"$GOTASK_HOST" ]; then echo "blocked $$"; exec sleep 3600; fi
echo done
'''
`)
}

// ranOn empties dir/ran and returns the hosts that had left a marker.
func ranOn(t *testing.T, dir string) []string {
	t.Helper()
	got := markers(t, filepath.Join(dir, "ran"))
	for _, h := range got {
		if err := os.Remove(filepath.Join(dir, "ran", h)); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkRecords: the records are private (0700 directories, 0600 files),
// named by a hash only, and hold no value of the run.
func checkRecords(t *testing.T, tasksFile string, secret string) {
	t.Helper()
	state := filepath.Join(filepath.Dir(tasksFile), ".gotask")
	dir := filepath.Join(state, "hosts")
	for _, d := range []string{state, dir} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("%s has mode %o, want 700", d, perm)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatalf("no host records in %s", dir)
	}
	hash := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, e := range entries {
		if !hash.MatchString(e.Name()) {
			t.Errorf("record %q is not named by a hash", e.Name())
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("record %s has mode %o, want 600", e.Name(), perm)
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secret) {
			t.Errorf("record %s holds %q", e.Name(), b)
		}
	}
}

// TestRetryFailed: one host fails; --retry-failed runs that host alone,
// says which it skips, and then, with nothing failed, runs none.
func TestRetryFailed(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 4)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	dir := t.TempDir()
	file := resumeTasks(t, dir, "v1")
	all := strings.Join(hosts, ",")
	const secret = "TOPSECRET-7f1c"
	touch(t, filepath.Join(dir, "fail", "host3"))

	o := s.run(t, file, "-H", all, "--var", "token="+secret, "deploy")
	if o.code != 4 {
		t.Fatalf("first run: exit %d, want 4", o.code)
	}
	if got := ranOn(t, dir); !slices.Equal(got, hosts) {
		t.Fatalf("first run ran on %v, want %v", got, hosts)
	}
	checkRecords(t, file, secret)

	// The fix: host3 no longer fails. Even with the definition changed,
	// --retry-failed runs only the host that failed.
	if err := os.Remove(filepath.Join(dir, "fail", "host3")); err != nil {
		t.Fatal(err)
	}
	file2 := resumeTasks(t, dir, "v2")
	if err := os.Rename(file2, file); err != nil {
		t.Fatal(err)
	}
	o = s.run(t, file, "-H", all, "--var", "token="+secret, "--retry-failed", "deploy")
	if o.code != 0 {
		t.Errorf("retry: exit %d, want 0", o.code)
	}
	if got := ranOn(t, dir); !slices.Equal(got, []string{"host3"}) {
		t.Errorf("retry ran on %v, want [host3]", got)
	}
	if want := "gotask: task deploy: skipping 3 of 4 hosts, ok last time: host1, host2, host4\n"; !strings.Contains(o.stderr, want) {
		t.Errorf("stderr lacks %q", want)
	}

	o = s.run(t, file, "-H", all, "--retry-failed", "deploy")
	if o.code != 0 {
		t.Errorf("second retry: exit %d, want 0", o.code)
	}
	if got := ranOn(t, dir); len(got) != 0 {
		t.Errorf("second retry ran on %v, want none", got)
	}
	if want := "gotask: task deploy: no host left to run\n"; !strings.Contains(o.stderr, want) {
		t.Errorf("stderr lacks %q", want)
	}
	checkRecords(t, file, secret)
}

// TestResumeAfterInterrupt sends SIGINT to a gotask process once two of
// four hosts are done and the third is running; --resume then runs the third and fourth only. Changing the
// task's definition or a value it uses makes every host run again.
func TestResumeAfterInterrupt(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 4)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	dir := t.TempDir()
	file := resumeTasks(t, dir, "v1")
	all := strings.Join(hosts, ",")
	touch(t, filepath.Join(dir, "block", "host3"))

	// A real gotask process, interrupted as Ctrl-C does: SIGINT once
	// host3 has started. -P 1: one host after another, so host1 and
	// host2 are done and host4 has not started.
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard) // a hang guard only
	defer cancel()
	cmd := exec.CommandContext(ctx, gotaskBinary(t), "-f", file, "-F", s.Config, "-P", "1", "-H", all, "deploy")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	blocked := regexp.MustCompile(`^\[host3\] +blocked (\d+)$`)
	var stdout strings.Builder
	sleeper := 0
	for sc := bufio.NewScanner(pipe); sc.Scan(); {
		stdout.WriteString(sc.Text() + "\n")
		if m := blocked.FindStringSubmatch(sc.Text()); m != nil {
			sleeper, _ = strconv.Atoi(m[1])
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	t.Logf("interrupted gotask: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	if sleeper > 1 {
		_ = syscall.Kill(sleeper, syscall.SIGKILL) // sshd may not signal a root login's sessions
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("interrupted run: exit %d, want 130", code)
	}
	if got := ranOn(t, dir); !slices.Equal(got, hosts[:3]) {
		t.Fatalf("interrupted run ran on %v, want %v", got, hosts[:3])
	}

	if err := os.Remove(filepath.Join(dir, "block", "host3")); err != nil {
		t.Fatal(err)
	}
	o := s.run(t, file, "-P", "1", "-H", all, "--resume", "deploy")
	if o.code != 0 {
		t.Errorf("resume: exit %d, want 0", o.code)
	}
	if got := ranOn(t, dir); !slices.Equal(got, []string{"host3", "host4"}) {
		t.Errorf("resume ran on %v, want [host3 host4]", got)
	}
	if want := "gotask: task deploy: skipping 2 of 4 hosts, done with this definition and these arguments: host1, host2\n"; !strings.Contains(o.stderr, want) {
		t.Errorf("stderr lacks %q", want)
	}

	// All done: nothing runs.
	o = s.run(t, file, "-H", all, "--resume", "deploy")
	if got := ranOn(t, dir); o.code != 0 || len(got) != 0 {
		t.Errorf("resume when all done: exit %d, ran on %v; want 0 and none", o.code, got)
	}

	// Another value of a var the task uses: not the same run, all run.
	o = s.run(t, file, "-H", all, "--var", "token=other", "--resume", "deploy")
	if got := ranOn(t, dir); o.code != 0 || !slices.Equal(got, hosts) {
		t.Errorf("resume with another var value: exit %d, ran on %v; want 0 and %v", o.code, got, hosts)
	}

	// Another definition: all run again.
	file2 := resumeTasks(t, dir, "v2")
	if err := os.Rename(file2, file); err != nil {
		t.Fatal(err)
	}
	o = s.run(t, file, "-H", all, "--var", "token=other", "--resume", "deploy")
	if got := ranOn(t, dir); o.code != 0 || !slices.Equal(got, hosts) {
		t.Errorf("resume after the task changed: exit %d, ran on %v; want 0 and %v", o.code, got, hosts)
	}
}
