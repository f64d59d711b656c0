package remote

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gotask/gotask/internal/sshtest"
)

// countOpens watches path with inotify and returns a function reporting
// how many times it has been opened so far, by anyone: the kernel counts
// the real checker's reads, nothing stands in for it. Closes are watched
// too, only so that the kernel does not merge back-to-back opens into one
// event.
func countOpens(t *testing.T, path string) func() int {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if _, err := syscall.InotifyAddWatch(fd, path, syscall.IN_OPEN|syscall.IN_CLOSE); err != nil {
		t.Fatal(err)
	}
	n := 0
	buf := make([]byte, 64<<10)
	return func() int {
		for {
			got, err := syscall.Read(fd, buf)
			if errors.Is(err, syscall.EAGAIN) {
				return n
			}
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off+syscall.SizeofInotifyEvent <= got; {
				if binary.NativeEndian.Uint32(buf[off+4:])&syscall.IN_OPEN != 0 {
					n++
				}
				off += syscall.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(buf[off+12:]))
			}
		}
	}
}

// TestPoolReadsKnownHostsOnce: a Pool reads the known_hosts files once
// for the whole run, however many hosts it dials, rather than once per
// host (with a large known_hosts, that cost CPU and memory per host).
func TestPoolReadsKnownHostsOnce(t *testing.T) {
	t.Parallel()
	first := sshtest.Start(t, sshtest.Options{})
	servers := []*sshtest.Server{first}
	for range 3 {
		servers = append(servers, sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{first.ClientKey.PublicKey()}}))
	}
	var lines strings.Builder
	for _, s := range servers {
		lines.WriteString(s.KnownHostsLine("ed25519") + "\n")
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	opens := countOpens(t, kh)
	pool := NewPool(&Config{
		SSHConfig:       "none",
		AgentSocket:     "none",
		IdentityFiles:   []string{first.ClientKeyFile},
		KnownHostsFiles: []string{kh},
	})
	defer pool.Close()

	if _, err := pool.Get(t.Context(), servers[0].Addr); err != nil {
		t.Fatal(err)
	}
	once := opens()
	if once == 0 {
		t.Fatal("known_hosts was never read: the test does not see the reads")
	}
	for _, s := range servers[1:] {
		// Every host's key is still checked: a dial fails unless the
		// known_hosts content vouches for it.
		if _, err := pool.Get(t.Context(), s.Addr); err != nil {
			t.Fatal(err)
		}
	}
	if got := opens(); got != once {
		t.Errorf("dialling %d hosts opened known_hosts %d times; dialling the first alone opened it %d times", len(servers), got, once)
	}
}
