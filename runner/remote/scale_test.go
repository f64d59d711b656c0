package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestPoolSharedKnownHostsSeesAcceptedKeys: with AcceptNew, a key that
// one dial records is trusted by the later dials of the same run without
// being recorded twice, and another key for that host is then refused as
// changed, though the shared known_hosts was read before either.
func TestPoolSharedKnownHostsSeesAcceptedKeys(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	impostor := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{srv.ClientKey.PublicKey()}})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("# no hosts yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var redirect atomic.Bool // from now on, srv's address reaches the impostor
	pool := NewPool(&Config{
		SSHConfig:       "none",
		AgentSocket:     "none",
		IdentityFiles:   []string{srv.ClientKeyFile},
		KnownHostsFiles: []string{kh},
		AcceptNew:       true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if redirect.Load() {
				addr = impostor.Addr
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	})
	defer pool.Close()
	for _, host := range []string{srv.Addr, "other@" + srv.Addr, "third@" + srv.Addr} {
		if _, err := pool.Get(t.Context(), host); err != nil {
			t.Fatalf("dialling %s, whose key was accepted in this run: %v", host, err)
		}
	}
	data, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), fmt.Sprintf("[%s]:%d ", srv.Host, srv.Port)); n != 1 {
		t.Fatalf("known_hosts has %d entries for the host, want 1:\n%s", n, data)
	}
	redirect.Store(true)
	_, err = pool.Get(t.Context(), "fourth@"+srv.Addr)
	var herr *HostKeyError
	if !errors.As(err, &herr) || !herr.Changed {
		t.Fatalf("another key for a host accepted in this run: got %v, want a changed host key error", err)
	}
}

// TestHandshakeBoundKeepsQueueOutOfConnectTimeout: many hosts dialled at
// once by one Pool, against a peer that can only handle one
// authentication at a time, all connect within a connect timeout far
// shorter than the whole queue takes: the timeout counts a host's own
// connect, not the time it waited for a handshake slot.
func TestHandshakeBoundKeepsQueueOutOfConnectTimeout(t *testing.T) {
	t.Parallel()
	const hosts = 20
	const delay = 150 * time.Millisecond // the whole queue: 3 s
	srv := sshtest.Start(t, sshtest.Options{AuthDelay: delay})
	pool := NewPool(&Config{
		SSHConfig:       "none",
		AgentSocket:     "none",
		IdentityFiles:   []string{srv.ClientKeyFile},
		KnownHostsFiles: []string{srv.WriteKnownHosts(t)},
		ConnectTimeout:  1500 * time.Millisecond,
		MaxHandshakes:   2,
	})
	defer pool.Close()
	var wg sync.WaitGroup
	errs := make([]error, hosts)
	for i := range hosts {
		wg.Go(func() {
			_, errs[i] = pool.Get(t.Context(), fmt.Sprintf("u%d@%s", i, srv.Addr))
		})
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if failed <= 3 {
				t.Errorf("host %d: %v", i, err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d hosts failed to connect", failed, hosts)
	}
	if got := srv.Connections(); got != hosts {
		t.Errorf("server saw %d connections, want %d", got, hosts)
	}
}
