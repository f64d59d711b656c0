package task

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/local"
	"github.com/gotask/gotask/runner/remote"
)

// poolConnector is how the CLI connects: a remote.Pool, released by host.
type poolConnector struct{ pool *remote.Pool }

func (p poolConnector) Connect(ctx context.Context, host string) (runner.Runner, error) {
	return p.pool.Get(ctx, host)
}

func (p poolConnector) Release(host string) { p.pool.Release(host) }

// TestFanOutReleasesHostsWhenTheirTaskEnds: through a real SSH server, a
// task on several hosts gives each host's connection back when its steps
// there are done, so that a Pool can close connections no task needs
// (here at once: MaxIdleHosts < 0), instead of holding every host to the
// end of the run; with idle room, a later task of the run reuses them.
func TestFanOutReleasesHostsWhenTheirTaskEnds(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	var hosts []string
	for i := range 4 {
		hosts = append(hosts, fmt.Sprintf("u%d@%s", i, srv.Addr))
	}
	for _, idle := range []int{-1, 0} {
		t.Run(fmt.Sprintf("MaxIdleHosts=%d", idle), func(t *testing.T) {
			pool := remote.NewPool(&remote.Config{
				SSHConfig:       "none",
				AgentSocket:     "none",
				IdentityFiles:   []string{srv.ClientKeyFile},
				KnownHostsFiles: []string{srv.WriteKnownHosts(t)},
				MaxIdleHosts:    idle,
			})
			defer pool.Close()
			r := NewRegistry()
			r.MustAdd(Task{Name: "one", Hosts: hosts, Steps: sh("echo one", "echo two")})
			r.Dir = t.TempDir()
			var out bytes.Buffer
			e := &Executor{Registry: r, Local: local.New(), Stdout: &out, NoPty: true, Parallel: 2,
				Output: output.New(&out, nil, output.Options{Mode: output.Prefixed}),
				Remote: poolConnector{pool}}
			before := srv.Connections()
			if err := e.Run(t.Context(), Call{Name: "one"}); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if idle < 0 {
				waitServerOpen(t, srv, 0)
				return
			}
			if got := srv.OpenConnections(); got != len(hosts) {
				t.Fatalf("with idle room, %d connections open after the task, want %d", got, len(hosts))
			}
			if err := e.Run(t.Context(), Call{Name: "one"}); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if got := srv.Connections() - before; got != len(hosts) {
				t.Errorf("two tasks on %d hosts made %d connections: the second did not reuse the first's", len(hosts), got)
			}
		})
	}
}

// waitServerOpen waits until srv sees want connections open; the timeout
// is a hang guard only.
func waitServerOpen(t *testing.T, srv *sshtest.Server, want int) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	hang := time.After(2 * time.Minute)
	for srv.OpenConnections() != want {
		select {
		case <-tick.C:
		case <-hang:
			t.Fatalf("the server sees %d connections open, want %d", srv.OpenConnections(), want)
		}
	}
}
