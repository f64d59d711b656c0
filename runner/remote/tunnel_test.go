package remote

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// roundTrip sends a line to addr and returns the reply line.
func roundTrip(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second)) // hang guard only
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the reply through %s: %v", addr, err)
	}
	return strings.TrimSuffix(line, "\n")
}

// waitRefused waits until nothing listens on addr any more. sshd closes
// a reverse listener when it sees the connection end, a moment after the
// client closed it: the test's deadline is the hang guard.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("dial %s after close: %v, want connection refused", addr, err)
			}
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRealTunnelForward(t *testing.T) {
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	target := sshtest.EchoServer(t).String()
	port := freePort(t)
	tun, err := c.Forward(t.Context(), port, target)
	if err != nil {
		t.Fatalf("Forward: %v\nsshd log:\n%s", err, d.Log())
	}
	local := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for _, msg := range []string{"one", "two"} { // each connection is carried
		if got := roundTrip(t, local, msg); got != "echo: "+msg {
			t.Fatalf("through the tunnel got %q, want %q", got, "echo: "+msg)
		}
	}
	// Commands still run while a tunnel is open.
	if _, err := c.Run(t.Context(), &runner.Cmd{Command: "true"}); err != nil {
		t.Fatal(err)
	}
	// A connection still open when the tunnel closes is ended too.
	held, err := net.Dial("tcp", local)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	held.SetDeadline(time.Now().Add(30 * time.Second)) // hang guard only
	if n, err := held.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a carried connection outlived the tunnel (read %d bytes, %v)", n, err)
	}
	waitRefused(t, local)
	if err := tun.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestRealTunnelForwardLoopbackOnly(t *testing.T) {
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	port := freePort(t)
	tun, err := c.Forward(t.Context(), port, sshtest.EchoServer(t).String())
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	// The kernel's own table of listening sockets says where the forward
	// listens; no traffic leaves loopback to find out.
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp to read the listener's address from: %v", err)
	}
	want := fmt.Sprintf(":%04X", port)
	found := 0
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "0A" || !strings.HasSuffix(f[1], want) { // 0A: LISTEN
			continue
		}
		found++
		if addr := strings.TrimSuffix(f[1], want); addr != "0100007F" { // 127.0.0.1, little-endian hex
			t.Errorf("the forward listener on port %d listens on %s (hex), want 127.0.0.1 only", port, addr)
		}
	}
	if found == 0 {
		t.Errorf("no listener on port %d in /proc/net/tcp", port)
	}
	if data, err := os.ReadFile("/proc/net/tcp6"); err == nil && strings.Contains(string(data), want+" 00000000000000000000000000000000:0000 0A") {
		t.Errorf("the forward listener on port %d also listens on IPv6", port)
	}
}

func TestRealTunnelReverse(t *testing.T) {
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	target := sshtest.EchoServer(t).String()
	port := freePort(t)
	tun, err := c.Reverse(t.Context(), port, target)
	if err != nil {
		t.Fatalf("Reverse: %v\nsshd log:\n%s", err, d.Log())
	}
	// The host is this machine: its 127.0.0.1:port is sshd's listener.
	remote := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for _, msg := range []string{"one", "two"} {
		if got := roundTrip(t, remote, msg); got != "echo: "+msg {
			t.Fatalf("through the tunnel got %q, want %q", got, "echo: "+msg)
		}
	}
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, remote)
}

func TestRealTunnelRefused(t *testing.T) {
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name    string
		reverse bool
		port    int
		target  string
		want    string
	}{
		{"port zero", false, 0, "localhost:1", "out of range"},
		{"port too big", true, 65536, "localhost:1", "out of range"},
		{"target without port", false, 1, "localhost", "not host:port"},
		{"target port not a number", true, 1, "localhost:http", "1-65535"},
		{"local port in use", false, busyPort, "localhost:1", "already in use"},
		{"remote port in use", true, busyPort, "localhost:1", "refused to listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.reverse {
				_, err = c.Reverse(t.Context(), tt.port, tt.target)
			} else {
				_, err = c.Forward(t.Context(), tt.port, tt.target)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
