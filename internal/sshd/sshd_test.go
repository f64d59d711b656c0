package sshd

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// startOptions writes a host key and an empty authorized_keys for a
// server that nobody logs in to.
func startOptions(t *testing.T) (string, Options) {
	t.Helper()
	bin := Find()
	if bin == "" {
		if os.Getenv("GOTASK_REQUIRE_REAL_PEERS") == "1" {
			t.Fatal("OpenSSH sshd is not installed, and GOTASK_REQUIRE_REAL_PEERS=1 requires it")
		}
		t.Skip("OpenSSH sshd is not installed (Debian: apt-get install openssh-server)")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Skipf("ssh-keygen: %v: %s", err, out)
	}
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return bin, Options{Dir: dir, HostKey: key, AuthorizedKeys: keys}
}

// TestStartWaitsForItsOwnListener: another program already listening
// on the chosen port (a parallel test's server, say) must not pass for
// the sshd being started. That sshd cannot bind the port and exits, and
// start says so instead of handing out a server that is not there.
func TestStartWaitsForItsOwnListener(t *testing.T) {
	t.Parallel()
	bin, opts := startOptions(t)
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() {
		for {
			c, err := other.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := other.Addr().(*net.TCPAddr).Port
	s, err := start(t.Context(), bin, opts, port)
	if err == nil {
		s.Stop()
		t.Fatalf("start on a port another program listens on returned a server; want an error\nsshd log:\n%s", s.Log())
	}
	if !strings.Contains(err.Error(), "Address already in use") {
		t.Errorf("err = %v, want sshd's own word that the port is taken", err)
	}
}

// TestStartReady: once Start returns, its sshd has said it listens on
// the server's port, and accepts connections there.
func TestStartReady(t *testing.T) {
	t.Parallel()
	bin, opts := startOptions(t)
	s, err := Start(t.Context(), bin, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if want := fmt.Sprintf("Server listening on 127.0.0.1 port %d.", s.Port); !strings.Contains(s.Log(), want) {
		t.Errorf("log lacks %q:\n%s", want, s.Log())
	}
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
