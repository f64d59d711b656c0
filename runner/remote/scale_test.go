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
	"github.com/gotask/gotask/runner"
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
	const hosts = 24
	const delay = 150 * time.Millisecond // the whole queue: 3.6 s
	srv := sshtest.Start(t, sshtest.Options{AuthDelay: delay})
	pool := NewPool(&Config{
		SSHConfig:       "none",
		AgentSocket:     "none",
		IdentityFiles:   []string{srv.ClientKeyFile},
		KnownHostsFiles: []string{srv.WriteKnownHosts(t)},
		ConnectTimeout:  2 * time.Second, // a turn needs one delay
		MaxHandshakes:   1,
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
}

// waitOpen waits until srv sees want connections open, failing the test
// (not hanging it) if that never happens.
func waitOpen(t *testing.T, srv *sshtest.Server, want int) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	hang := time.After(hangGuard)
	for srv.OpenConnections() != want {
		select {
		case <-tick.C:
		case <-hang:
			t.Fatalf("the server sees %d connections open, want %d", srv.OpenConnections(), want)
		}
	}
}

// TestPoolClosesReleasedHosts: once no one holds a host, its connection
// stays open only while it is among the MaxIdleHosts released last; a
// host held by another Get stays open; a released host that is still
// open is reused without a new connection, and one that was closed is
// dialled again.
func TestPoolClosesReleasedHosts(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	cfg := testConfig(t, srv)
	cfg.MaxIdleHosts = 2
	pool := NewPool(cfg)
	defer pool.Close()
	host := func(i int) string { return fmt.Sprintf("u%d@%s", i, srv.Addr) }
	const hosts = 6
	for i := range hosts {
		if _, err := pool.Get(t.Context(), host(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Host 0 is held twice: one release leaves it open.
	if _, err := pool.Get(t.Context(), host(0)); err != nil {
		t.Fatal(err)
	}
	waitOpen(t, srv, hosts)
	for i := range hosts {
		pool.Release(host(i))
	}
	// Held: 0. Released, newest first: 5, 4 (kept), 3, 2, 1 (closed).
	waitOpen(t, srv, 3)
	if _, err := pool.Get(t.Context(), host(5)); err != nil {
		t.Fatal(err)
	}
	// A new connection would count from its accept, before Get returns.
	if got := srv.OpenConnections(); got != 3 {
		t.Errorf("getting a released host that is still open: the server sees %d connections, want 3", got)
	}
	c, err := pool.Get(t.Context(), host(1))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if _, err := c.Run(t.Context(), &runner.Cmd{Command: "echo again", Stdout: &out}); err != nil || out.String() != "again\n" {
		t.Fatalf("a host closed as idle, got again: %q, %v", out.String(), err)
	}
	waitOpen(t, srv, 4)
	// Releasing more than was got changes nothing.
	pool.Release(host(3))
	pool.Release(host(3))
	waitOpen(t, srv, 4)
}

// TestPoolSharedKnownHostsChangedAfterAcceptInRun: a host whose key one
// dial of the run accepted (ssh_config accept-new for that alias) and
// that then presents another key to a dial that may not accept new keys
// is refused as changed, naming the line recorded in this run.
func TestPoolSharedKnownHostsChangedAfterAcceptInRun(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	impostor := sshtest.Start(t, sshtest.Options{AuthorizedKeys: []ssh.PublicKey{srv.ClientKey.PublicKey()}})
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte("# no hosts yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "ssh_config")
	body := fmt.Sprintf("Host loose strict\n  HostName %s\n  Port %d\nHost loose\n  StrictHostKeyChecking accept-new\nHost strict\n  StrictHostKeyChecking yes\n", srv.Host, srv.Port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var redirect atomic.Bool
	pool := NewPool(&Config{
		SSHConfig:       conf,
		AgentSocket:     "none",
		IdentityFiles:   []string{srv.ClientKeyFile},
		KnownHostsFiles: []string{kh},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if redirect.Load() {
				addr = impostor.Addr
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	})
	defer pool.Close()
	if _, err := pool.Get(t.Context(), "loose"); err != nil {
		t.Fatal(err)
	}
	redirect.Store(true)
	_, err := pool.Get(t.Context(), "strict")
	var herr *HostKeyError
	if !errors.As(err, &herr) || !herr.Changed || herr.File != kh || herr.Line != 2 {
		t.Fatalf("got %v (%+v), want a changed host key error naming %s:2", err, herr, kh)
	}
}
