package cli_test

import (
	"context"
	"encoding/hex"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSudoAttacks runs, as the unprivileged sudo test user and against the
// real sudo, the commands an attacker would write to get the sudo
// password out of gotask, or to make it refuse a good one.
func TestSudoAttacks(t *testing.T) {
	e := newSudoEnv(t)
	e.needNoPasswdNobody(t)

	t.Run("a command sudo runs without asking cannot get the password", func(t *testing.T) {
		t.Parallel()
		// steal runs as nobody, NOPASSWD: it prints every sudo prompt
		// it can find in /proc, then reads a line. The line must be the
		// piped input, never the password.
		r := e.run(t, run{password: e.password, stdin: stdinPipe, args: []string{"steal"}})
		r.wantCode(t, 0)
		if want := "read:" + hex.EncodeToString([]byte("data")) + "\n"; !strings.Contains(r.stdout, want) {
			t.Errorf("the command did not read the piped input (%q):\n%s", want, r)
		}
		if strings.Contains(r.stdout, hex.EncodeToString([]byte(e.password))) {
			t.Errorf("the command read the sudo password:\n%s", r)
		}
		e.noPassword(t, r.stdout, r.stderr)
		// The attacker prints every prompt it finds (other gotask runs
		// on this machine may show theirs): look only for the wrapper's
		// own output.
		if strings.Contains(r.stdout+r.stderr, "[gotask sudo") {
			t.Errorf("the output shows the wrapper's request or marker:\n%s", r)
		}
	})

	t.Run("on a terminal, a command sudo runs without asking cannot get the password", func(t *testing.T) {
		t.Parallel()
		out, code := e.runPty(t, e.password, []string{"steal"}, func(ctx context.Context, p *transcript, tty io.Writer) {
			p.waitFor(t, ctx, "prompts found")
			if _, err := io.WriteString(tty, "typed\n"); err != nil {
				t.Errorf("typing: %v", err)
			}
		})
		if code != 0 {
			t.Fatalf("exit status %d, want 0\n%s", code, out)
		}
		if want := "read:" + hex.EncodeToString([]byte("typed")); !strings.Contains(out, want) {
			t.Errorf("the command did not read the typed line (%q):\n%s", want, out)
		}
		e.noPassword(t, out)
		if strings.Contains(out, "[gotask sudo") {
			t.Errorf("the output shows the wrapper's request or marker:\n%s", out)
		}
	})

	t.Run("a command that shows sudo's command lines does not fail sudo", func(t *testing.T) {
		t.Parallel()
		// After a good password, the process list shows how gotask runs
		// sudo. That is output of the command, not a second prompt: the
		// command must live on and succeed. It waits for a line, sent
		// once its output is out, so it is still running when gotask
		// sees that output.
		g := e.start(t, "pslist")
		g.out.waitFor(t, g.ctx, "sudo ")
		io.WriteString(g.in, "go on\n")
		g.in.Close()
		if err := g.cmd.Wait(); err != nil {
			t.Errorf("gotask pslist: %v\n--- stdout:\n%s\n--- stderr:\n%s", err, g.out, g.stderr.String())
		}
	})

	t.Run("type-ahead on the terminal is not part of the password", func(t *testing.T) {
		t.Parallel()
		// A line typed before sudo has asked: it must reach the command
		// (head -n 1 prints it), not sudo.
		out, code := e.runPty(t, e.password, []string{"readline"}, func(ctx context.Context, p *transcript, tty io.Writer) {
			if _, err := io.WriteString(tty, "typed-ahead\n"); err != nil {
				t.Errorf("typing: %v", err)
			}
		})
		if code != 0 {
			t.Fatalf("exit status %d, want 0\n%s", code, out)
		}
		if n := strings.Count(out, "typed-ahead"); n < 2 { // the echo, and head's output
			t.Errorf("the typed line shows %d times, want twice (echoed and printed by the command):\n%s", n, out)
		}
		e.noPassword(t, out)
		noExchange(t, out)
	})

	t.Run("gotask holding the password cannot be read by the same user", func(t *testing.T) {
		t.Parallel()
		g := e.start(t, "holdsudo")
		ctx, in, cmd, out, stderr := g.ctx, g.in, g.cmd, g.out, &g.stderr
		// The command runs: sudo has been given the password.
		out.waitFor(t, ctx, "ready\n")
		pid := strconv.Itoa(cmd.Process.Pid)
		for _, probe := range []string{
			"cat /proc/" + pid + "/environ",
			"dd if=/proc/" + pid + "/mem bs=1 count=0",
		} {
			p := exec.CommandContext(ctx, "/bin/sh", "-c", probe)
			p.SysProcAttr = e.credential()
			p.Env = e.environ("")
			got, err := p.CombinedOutput()
			if err == nil {
				t.Errorf("%s as the same user: succeeded, want permission denied", probe)
			}
			if strings.Contains(string(got), e.password) {
				t.Errorf("%s as the same user shows the password", probe)
			}
		}
		io.WriteString(in, "done\n")
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("gotask holdsudo: %v\n%s", err, stderr.String())
		}
		g.outW.Close()
		if text := out.wait(ctx); !strings.Contains(text, "done\n") {
			t.Errorf("the command did not get its input; stdout:\n%s", text)
		}
	})
}

// needNoPasswdNobody fails (skips without GOTASK_REQUIRE_REAL_PEERS=1)
// unless the sudo user may run commands as nobody without a password,
// the rule .ci/run sets up for the attacks that need a sudo that does not
// ask.
func (e *sudoEnv) needNoPasswdNobody(t *testing.T) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "sudo", "-n", "-u", "nobody", "true")
	cmd.SysProcAttr = e.credential()
	cmd.Env = e.environ("")
	cmd.Stdin = nil
	if out, err := cmd.CombinedOutput(); err != nil {
		missingSudo(t, "the sudo test user may not run commands as nobody without a password (sudoers: "+
			"'<user> ALL=(nobody) NOPASSWD: ALL'): "+strings.TrimSpace(string(out)))
	}
}

// started is a gotask run as the sudo user, with GOTASK_SUDO_PASSWORD set,
// whose stdin the test writes and whose stdout it reads as it comes.
type started struct {
	ctx    context.Context
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *transcript
	outW   *io.PipeWriter
	stderr syncBuffer
}

// start starts gotask with args after -f tasks.toml.
func (e *sudoEnv) start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	t.Cleanup(cancel)
	g := &started{ctx: ctx}
	g.cmd = exec.CommandContext(ctx, e.bin, append([]string{"-f", e.tasks}, args...)...)
	g.cmd.Dir = e.dir
	g.cmd.Env = e.environ(e.password)
	g.cmd.SysProcAttr = e.credential()
	g.cmd.WaitDelay = time.Second
	var err error
	if g.in, err = g.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	var outR *io.PipeReader
	outR, g.outW = io.Pipe()
	g.cmd.Stdout, g.cmd.Stderr = g.outW, &g.stderr
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g.out = newTranscript(outR)
	return g
}
