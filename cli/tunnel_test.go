package cli_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
)

// unusedPorts returns n distinct loopback ports that were free a moment
// ago: each is held until all are found, so none comes back twice.
func unusedPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// probeScript writes a bash script that connects to 127.0.0.1:$1, sends
// $2 and prints "got " and the line it reads back; it fails when nothing
// listens or the connection ends without a reply.
func probeScript(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe.sh")
	script := `exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 7
printf '%s\n' "$2" >&3
IFS= read -r line <&3 || exit 8
printf 'got %s\n' "$line"
`
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// refusedSoon waits until nothing listens on 127.0.0.1:port. sshd closes
// a reverse listener when it sees the tunnel's connection end, a moment
// after gotask closed it; the test's deadline is the hang guard.
func refusedSoon(t *testing.T, port int) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	guard := time.Now().Add(hangGuard)
	for {
		if time.Now().After(guard) {
			t.Fatalf("port %d still listens on the host long after the task ended", port)
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("dial %s after the task: %v, want connection refused", addr, err)
			}
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// refusedNow checks that nothing listens on this machine's
// 127.0.0.1:port: a forward's listener is closed before the task ends.
func refusedNow(t *testing.T, port int) {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err == nil {
		c.Close()
		t.Fatalf("port %d still listens after the task ended", port)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial port %d after the task: %v, want connection refused", port, err)
	}
}

// TestRemoteTaskTunnels runs tasks with forward and reverse through a
// real sshd: a local step reaches an echo server through the forward's
// local port, a remote step reaches this machine's echo server through
// the reverse port on the host, and the ports are closed when the task
// ends, whether it succeeded, failed or was interrupted.
func TestRemoteTaskTunnels(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "h1")
	echo := strconv.Itoa(sshtest.EchoServer(t).Port)
	probe := probeScript(t)
	ports := unusedPorts(t, 2)
	fport, rport := ports[0], ports[1]
	fp, rp := strconv.Itoa(fport), strconv.Itoa(rport)
	file := writeTasks(t, `
[tasks.fwd]
hosts = ["h1"]
forward = ["`+fp+`:127.0.0.1:`+echo+`"]
steps = [{ local = "bash `+probe+` `+fp+` through-forward" }]

[tasks.rev]
hosts = ["h1"]
reverse = ["`+rp+`:localhost:`+echo+`"]
steps = [{ run = "bash `+probe+` `+rp+` through-reverse" }]

[tasks.failing]
hosts = ["h1"]
forward = ["`+fp+`:127.0.0.1:`+echo+`"]
reverse = ["`+rp+`:127.0.0.1:`+echo+`"]
steps = [
  { local = "bash `+probe+` `+fp+` before-failing" },
  { run = "exit 3" },
]

[tasks.hang]
hosts = ["h1"]
forward = ["`+fp+`:127.0.0.1:`+echo+`"]
reverse = ["`+rp+`:127.0.0.1:`+echo+`"]
steps = [{ run = "bash `+probe+` `+rp+` ready; sleep 600" }]
`)
	t.Run("forward", func(t *testing.T) {
		o := s.run(t, file, "fwd")
		if o.code != 0 || !strings.Contains(o.stdout, "got echo: through-forward") {
			t.Fatalf("exit %d, stdout %q: want the local step to reach the echo server through the forward", o.code, o.stdout)
		}
		refusedNow(t, fport)
	})
	t.Run("reverse", func(t *testing.T) {
		o := s.run(t, file, "rev")
		if o.code != 0 || !strings.Contains(o.stdout, "got echo: through-reverse") {
			t.Fatalf("exit %d, stdout %q: want the remote step to reach the echo server here through the reverse", o.code, o.stdout)
		}
		refusedSoon(t, rport)
	})
	t.Run("a failing step still closes them", func(t *testing.T) {
		o := s.run(t, file, "failing")
		if o.code != 3 || !strings.Contains(o.stdout, "got echo: before-failing") {
			t.Fatalf("exit %d, stdout %q: want the forward to work, then exit 3", o.code, o.stdout)
		}
		refusedNow(t, fport)
		refusedSoon(t, rport)
	})
	t.Run("Ctrl-C closes them", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
		defer cancel()
		out := &syncBuffer{onWrite: func(all string) {
			if strings.Contains(all, "got echo: ready") {
				cancel()
			}
		}}
		o := s.runCtx(ctx, t, file, out, "hang")
		if o.code != 130 || !strings.Contains(o.stdout, "got echo: ready") {
			t.Fatalf("exit %d, stdout %q: want the reverse to work, then exit 130 for Ctrl-C", o.code, o.stdout)
		}
		refusedNow(t, fport)
		refusedSoon(t, rport)
	})
	t.Run("a port in use fails the host, naming the tunnel", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:"+fp)
		if err != nil {
			t.Skipf("port %s was taken meanwhile: %v", fp, err)
		}
		defer busy.Close()
		o := s.run(t, file, "fwd")
		if o.code == 0 || strings.Contains(o.stdout, "through-forward") || !strings.Contains(o.stderr, "already in use") {
			t.Fatalf("exit %d, stdout %q, stderr %q: want the task to fail before its steps, saying the port is in use", o.code, o.stdout, o.stderr)
		}
	})
}
