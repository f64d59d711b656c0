package task

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gotask/gotask/runner"
)

func TestParseTunnel(t *testing.T) {
	good := []struct {
		in   string
		want Tunnel
	}{
		{"15432:localhost:5432", Tunnel{15432, "localhost:5432"}},
		{"1:127.0.0.1:65535", Tunnel{1, "127.0.0.1:65535"}},
		{"8080:[::1]:3000", Tunnel{8080, "[::1]:3000"}},
		{"8080:db.internal:3000", Tunnel{8080, "db.internal:3000"}},
	}
	for _, tt := range good {
		got, err := ParseTunnel(tt.in)
		if err != nil || got != tt.want || got.String() != tt.in {
			t.Errorf("ParseTunnel(%q) = %+v (%q), %v; want %+v", tt.in, got, got.String(), err, tt.want)
		}
	}
	bad := []struct{ in, want string }{
		{"15432", "has no ':'"},
		{"0:localhost:5432", `port "0"`},
		{"65536:localhost:5432", `port "65536"`},
		{"+80:localhost:5432", `port "+80"`},
		{"x:localhost:5432", `port "x"`},
		{"15432:localhost", "no HOST:PORT"},
		{"15432::5432", "no HOST:PORT"},
		{"15432:localhost:0", `to port "0"`},
		{"15432:localhost:http", `to port "http"`},
		{"15432:localhost:05432", `to port "05432"`},
		{"15432:root@db:5432", "names a user"},
		{"15432:-oProxyCommand=x:5432", "starts with '-'"},
		{"15432:a b:5432", "contains ' '"},
		{"15432:$(id):5432", "contains '$'"},
		{"15432:::1:5432", "no HOST:PORT"}, // an IPv6 address needs brackets
	}
	for _, tt := range bad {
		_, err := ParseTunnel(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "write PORT:HOST:PORT") {
			t.Errorf("ParseTunnel(%q) = %v; want an error containing %q and saying how to write one", tt.in, err, tt.want)
		}
	}
}

// A tunnel that could never work is a load error at its line and column:
// a malformed one, one on a task that runs on no host, and a forward
// whose one local port would have to serve several hosts at once.
func TestTunnelLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "malformed",
			doc:  "[tasks.db]\nhosts = [\"h1\"]\nrun = \"true\"\nforward = [\"15432:localhost:5432\", \"0:localhost:5432\"]\nreverse = [\"8080:root@x:3000\"]\n",
			want: []string{
				`tasks.toml:4:36: task "db": forward: tunnel "0:localhost:5432" listens on port "0", not a number from 1 to 65535; write PORT:HOST:PORT, like "15432:localhost:5432"`,
				`tasks.toml:5:12: task "db": reverse: tunnel "8080:root@x:3000" names a user; the target is a host and port only; write PORT:HOST:PORT, like "15432:localhost:5432"`,
			},
		},
		{
			name: "not a list of strings",
			doc:  "[tasks.db]\nhosts = [\"h1\"]\nrun = \"true\"\nforward = \"15432:localhost:5432\"\n",
			want: []string{`tasks.toml:4:11: task "db" key forward: a string where a list is expected`},
		},
		{
			name: "on a task with no hosts",
			doc:  "[tasks.db]\nrun = \"psql -p 15432\"\nforward = [\"15432:localhost:5432\"]\nreverse = [\"8080:localhost:3000\"]\n",
			want: []string{
				`tasks.toml:3:1: task "db": forward is a tunnel over a host's SSH connection, and the task runs here, on no host; give it hosts = [...], or remove forward`,
				`tasks.toml:4:1: task "db": reverse is a tunnel over a host's SSH connection, and the task runs here, on no host; give it hosts = [...], or remove reverse`,
			},
		},
		{
			name: "forward on several hosts at once",
			doc:  "[hosts]\nweb = [\"w1\", \"w2\"]\n[tasks.db]\nhosts = [\"@web\", \"w3\"]\nrun = \"true\"\nforward = [\"15432:localhost:5432\"]\n",
			want: []string{`tasks.toml:6:1: task "db": forward 15432:localhost:5432 listens on one local port, which can carry to one host only, and the task runs on 3 hosts at once; set serial = 1 to run them one after another, or give the task one host`},
		},
		{
			name: "forward on batches of more than one host",
			doc:  "[tasks.db]\nhosts = [\"w1\", \"w2\"]\nserial = [1, \"50%\"]\nrun = \"true\"\nforward = [\"15432:localhost:5432\"]\n",
			want: []string{`tasks.toml:5:1: task "db": forward 15432:localhost:5432 listens on one local port, which can carry to one host only, and the task runs on 2 hosts at once; set serial = 1 to run them one after another, or give the task one host`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewRegistry().LoadBytes("tasks.toml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("LoadBytes succeeded, want %q", tt.want)
			}
			if got := err.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("LoadBytes error:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

// What a forward can serve loads: one host, several hosts one at a time,
// a reverse on several hosts at once (each host listens on its own port),
// and a dynamic group, whose hosts are checked when the run starts.
func TestTunnelLoads(t *testing.T) {
	docs := map[string]string{
		"one host":         "[tasks.db]\nhosts = [\"h1\"]\nrun = \"true\"\nforward = [\"15432:localhost:5432\"]\n",
		"the same host":    "[hosts]\nweb = [\"h1\"]\n[tasks.db]\nhosts = [\"@web\", \"h1\"]\nrun = \"true\"\nforward = [\"15432:localhost:5432\"]\n",
		"serial 1":         "[tasks.db]\nhosts = [\"h1\", \"h2\"]\nserial = 1\nrun = \"true\"\nforward = [\"15432:localhost:5432\"]\n",
		"batches of 1":     "[tasks.db]\nhosts = [\"h1\", \"h2\"]\nserial = [1]\nrun = \"true\"\nforward = [\"15432:localhost:5432\"]\n",
		"reverse, 2 hosts": "[tasks.db]\nhosts = [\"h1\", \"h2\"]\nrun = \"true\"\nreverse = [\"8080:localhost:3000\"]\n",
		"dynamic group":    "[hosts.aws]\ncommand = \"echo '[]'\"\n[tasks.db]\nhosts = \"@aws\"\nrun = \"true\"\nforward = [\"15432:localhost:5432\"]\n",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			r := NewRegistry()
			if err := r.LoadBytes("tasks.toml", []byte(doc)); err != nil {
				t.Fatal(err)
			}
			db, _ := r.Lookup("db")
			if len(db.Forward)+len(db.Reverse) != 1 {
				t.Errorf("task db has tunnels %v and %v, want the one declared", db.Forward, db.Reverse)
			}
		})
	}
}

// A forward whose hosts are known only when the run starts (-H, or a
// dynamic group) and are several at once stops the run before anything
// of it runs: no dep, no connection.
func TestForwardOnSeveralHostsRefusedAtRunStart(t *testing.T) {
	doc := `
[hosts.aws]
command = "echo '[\"a1\", \"a2\"]'"

[tasks.build]
run = "echo build >> log"

[tasks.db]
deps = ["build"]
hosts = ["h1"]
run = "true"
forward = ["15432:localhost:5432"]

[tasks.dyn]
deps = ["build"]
hosts = "@aws"
run = "true"
forward = ["15432:localhost:5432"]

[tasks.outer]
run = "echo outer >> log"
post = ["dyn"]
`
	tests := []struct {
		name  string
		call  string
		hosts []string
	}{
		{"-H gives two hosts", "db", []string{"h1", "h2"}},
		{"a dynamic group gives two hosts", "dyn", nil},
		{"a post task on a dynamic group", "outer", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry()
			if err := r.LoadBytes("tasks.toml", []byte(doc)); err != nil {
				t.Fatal(err)
			}
			if err := r.ResolveGroups(t.Context(), nil, []string{"aws"}); err != nil {
				t.Fatal(err)
			}
			var connects atomic.Int32
			x := runTasks(t, r, func(e *Executor) {
				e.Hosts = tt.hosts
				e.Remote = ConnectFunc(func(ctx context.Context, host string) (runner.Runner, error) {
					connects.Add(1)
					return nil, errors.New("no host in this test")
				})
			}, Call{Name: tt.call})
			var ae *ArgError
			if !errors.As(x.err, &ae) || !strings.Contains(x.err.Error(), "runs on 2 hosts at once; set serial = 1") {
				t.Fatalf("Run: %v (%T), want a usage error saying the forward cannot serve 2 hosts at once and what to do", x.err, x.err)
			}
			if got := x.log(t); len(got) > 0 || connects.Load() > 0 {
				t.Errorf("before the refusal, ran %v and connected %d times; want nothing run", got, connects.Load())
			}
		})
	}
	// With -H naming one host, the same task runs (and fails to connect
	// here): the check is about hosts at once, not about -H.
	r := NewRegistry()
	if err := r.LoadBytes("tasks.toml", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	x := runTasks(t, r, func(e *Executor) {
		e.Hosts = []string{"h2"}
		e.Remote = ConnectFunc(func(ctx context.Context, host string) (runner.Runner, error) {
			return nil, errors.New("no host in this test")
		})
	}, Call{Name: "db"})
	if got := x.log(t); len(got) != 1 || !strings.Contains(x.err.Error(), "no host in this test") {
		t.Errorf("-H h2 db: ran %v, error %v; want build run, then db unreachable", got, x.err)
	}
}
