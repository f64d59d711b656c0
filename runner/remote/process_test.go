package remote

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

func waitClosed(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(2 * time.Minute): // a hang guard
		t.Fatalf("%s did not happen", what)
	}
}

func readPidFile(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestStartEndsAtShellExitDespiteChild: a started command that exits 7
// leaving a background child (which holds its SSH session open) is done
// at once, with its status from the shell's report; the report and a
// forged one without the nonce are handled apart (the forgery is plain
// output); Close kills the child and ends the session.
func TestStartEndsAtShellExitDespiteChild(t *testing.T) {
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	dir := t.TempDir()
	var out, errOut lockedBuffer
	line := "sleep 300 & echo $! > child; echo out; echo 'gotask-exit 0000 0' >&2; exit 7"
	p, err := c.Start(t.Context(), &runner.Cmd{Command: line, Dir: dir, Env: []string{"A=1"}, Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatal(err)
	}
	if p.Pgid() <= 1 {
		t.Errorf("Pgid = %d, want the group's id", p.Pgid())
	}
	waitClosed(t, "the end of the command", p.Done())
	child := readPidFile(t, filepath.Join(dir, "child"))
	t.Cleanup(func() { _ = killPid(child) })
	if code, sig, known := p.Exit(); code != 7 || sig != "" || !known {
		t.Errorf("Exit = %d, %q, %v; want 7, \"\", true", code, sig, known)
	}
	if !alive(child) {
		t.Fatalf("the child (pid %d) is gone before Close: the test proves nothing", child)
	}
	p.Close()
	if left := waitGone([]int{child}); len(left) > 0 {
		t.Errorf("Close left the child %v running", left)
	}
	ended := make(chan struct{})
	go func() { _, _ = p.Wait(); close(ended) }()
	waitClosed(t, "the session's end after Close", ended)
	if got := out.String(); got != "out\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := errOut.String(); got != "gotask-exit 0000 0\n" {
		t.Errorf("stderr = %q, want only the forged line", got)
	}
}

// TestStartSignalReachesGroup: Signal sends TERM to the whole group,
// children included, and the end is reported as a signal.
func TestStartSignalReachesGroup(t *testing.T) {
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	dir := t.TempDir()
	p, err := c.Start(t.Context(), &runner.Cmd{Command: "sleep 300 & echo $! > child; wait", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var child int
	deadline := time.Now().Add(2 * time.Minute)
	for child == 0 && time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, "child")); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if child == 0 {
		t.Fatalf("the command did not write its child's pid in its dir")
	}
	t.Cleanup(func() { _ = killPid(child) })
	p.Signal(t.Context(), "TERM")
	waitClosed(t, "the end of the signalled command", p.Done())
	if left := waitGone([]int{child}); len(left) > 0 {
		t.Errorf("TERM to the group left the child %v running", left)
	}
	code, sig, known := p.Exit()
	if !known || sig != "TERM" && code != 143 {
		t.Errorf("Exit = %d, %q, %v; want signal TERM", code, sig, known)
	}
	p.Close()
}

// TestDialContextFromHost: DialContext reaches a port through the SSH
// connection (the sshd runs here, so the host's loopback is ours).
func TestDialContextFromHost(t *testing.T) {
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			_, _ = io.WriteString(conn, "hello\n")
			conn.Close()
		}
	}()
	conn, err := c.DialContext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b, _ := io.ReadAll(conn)
	if string(b) != "hello\n" {
		t.Errorf("read %q through the connection", b)
	}
	if _, err := c.DialContext(t.Context(), "tcp", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "from "+c.Host()) {
		t.Errorf("dial of a closed port: %v; want an error naming the host", err)
	}
}

func killPid(pid int) error {
	if pid <= 1 {
		return nil
	}
	pr, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return pr.Kill()
}
