package remote

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// dialAsTestUser starts a real sshd and logs in to it as the
// unprivileged sudo test user (GOTASK_TEST_SUDO_USER), which needs the
// test to run as root.
func dialAsTestUser(t *testing.T) (*sshtest.SSHD, *Client) {
	t.Helper()
	name := os.Getenv("GOTASK_TEST_SUDO_USER")
	if name == "" {
		sshtest.MissingPeer(t, "GOTASK_TEST_SUDO_USER is not set (.ci/run creates an unprivileged test user and sets it)")
	}
	if os.Geteuid() != 0 {
		sshtest.MissingPeer(t, "logging in to the test sshd as "+name+" needs the test to run as root")
	}
	if _, err := user.Lookup(name); err != nil {
		t.Fatalf("GOTASK_TEST_SUDO_USER=%s: %v", name, err)
	}
	d := sshtest.StartSSHDWith(t, sshtest.SSHDOptions{AnyUser: true})
	cfg := realConfig(d)
	cfg.StopGrace = 500 * time.Millisecond
	c, err := Dial(t.Context(), name+"@"+d.Addr, cfg)
	if err != nil {
		t.Fatalf("Dial %s as %s: %v\nsshd log:\n%s", d.Addr, name, err, d.Log())
	}
	t.Cleanup(func() { c.Close() })
	return d, c
}

// alive reports whether the process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}

// waitGone waits until none of pids is alive, and reports the ones
// still alive when the hang guard runs out.
func waitGone(pids []int) []int {
	deadline := time.Now().Add(15 * time.Second) // a hang guard: the processes sleep for 60 s
	for {
		var left []int
		for _, p := range pids {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stragglers is a command that leaves behind what a plain signal to the
// shell misses: a background child that ignores INT, TERM and HUP and
// keeps the output open, a background child with its output elsewhere
// (non-interactive shells start background jobs with INT ignored), and
// a foreground command. It prints the children's process ids, then
// "ready".
const stragglers = `sh -c 'trap "" INT TERM HUP; exec sleep 61' &
echo "pid $!"
sleep 62 </dev/null >/dev/null 2>&1 &
echo "pid $!"
echo ready
sleep 63`

// TestRealStopKillsProcessGroup: a command stopped by its timeout or by
// cancellation leaves no process behind on the host, with or without a
// pty, for an unprivileged login (whose session sshd can no longer
// signal once its shell has exited) as for root.
func TestRealStopKillsProcessGroup(t *testing.T) {
	t.Parallel()
	_, c := dialAsTestUser(t)
	tests := []struct {
		name    string
		pty     runner.PtyMode
		timeout bool
	}{
		{"pipes, timeout", runner.PtyOff, true},
		{"pipes, cancelled", runner.PtyOff, false},
		{"pty, timeout", runner.PtyOn, true},
		{"pty, cancelled", runner.PtyOn, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := newSignalWriter("ready")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cmd := &runner.Cmd{Command: stragglers, Pty: tt.pty, Stdout: out}
			if tt.timeout {
				// Long enough for the shell to print the ids first.
				cmd.Timeout = 2 * time.Second
			} else {
				go func() {
					select {
					case <-out.seen:
						cancel()
					case <-ctx.Done():
					}
				}()
			}
			res, err := c.Run(ctx, cmd)
			pids := parsePids(string(res.Stdout))
			t.Cleanup(func() {
				for _, p := range pids {
					_ = syscall.Kill(p, syscall.SIGKILL)
				}
			})
			var ee *runner.ExitError
			if !errors.As(err, &ee) || (tt.timeout && !ee.TimedOut) {
				t.Fatalf("err %v, want a stopped command", err)
			}
			if len(pids) != 2 || !strings.Contains(string(res.Stdout), "ready") {
				t.Fatalf("stdout %q: the command was stopped before it started its children", res.Stdout)
			}
			if left := waitGone(pids); len(left) > 0 {
				t.Errorf("processes %v of the stopped command still run on the host", left)
			}
			if strings.Contains(string(res.Stdout)+string(res.Stderr), "gotask-pid") {
				t.Errorf("the process group report shows in the output: %q / %q", res.Stdout, res.Stderr)
			}
		})
	}
}

func parsePids(out string) []int {
	var pids []int
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "pid" {
			if p, err := strconv.Atoi(f[i+1]); err == nil && p > 1 {
				pids = append(pids, p)
			}
		}
	}
	return pids
}

// findProcess returns the id of a process running the program prog
// (argv[0]) whose command line holds all of words, or 0.
func findProcess(prog string, words ...string) int {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil {
			continue
		}
		argv0, _, _ := strings.Cut(string(b), "\x00")
		if argv0 != prog {
			continue
		}
		line := strings.ReplaceAll(string(b), "\x00", " ")
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all && alive(pid) {
			return pid
		}
	}
	return 0
}

// TestRealCancelledGetStopsHasher: a get given up on (Ctrl-C) stops the
// hasher it started on the host, even for a root login, whose session
// sshd will not signal.
func TestRealCancelledGetStopsHasher(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	if _, err := c.Run(t.Context(), &runner.Cmd{Command: "command -v openssl"}); err != nil {
		t.Skipf("no openssl on the host: %v", err)
	}
	// A sparse terabyte: hashing it takes minutes, reading it costs
	// nothing on disk.
	src := filepath.Join(t.TempDir(), "huge.bin")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 40); err != nil {
		f.Close()
		t.Skipf("cannot make a sparse file of 1 TiB here: %v", err)
	}
	f.Close()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	hasher := make(chan int, 1)
	go func() {
		for ctx.Err() == nil {
			if pid := findProcess("openssl", "dgst", src); pid != 0 {
				hasher <- pid
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	_, err = c.Get(ctx, src, filepath.Join(t.TempDir(), "back.bin"), nil)
	if err == nil {
		t.Fatal("the get of a terabyte ended without an error")
	}
	var pid int
	select {
	case pid = <-hasher:
	default:
		t.Fatalf("the hasher was never seen running; get: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if left := waitGone([]int{pid}); len(left) > 0 {
		t.Errorf("the host's hasher (pid %d) still runs after the get was cancelled (%v)", pid, err)
	}
}
