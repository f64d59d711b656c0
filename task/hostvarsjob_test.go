package task

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/local"
)

// A Go task's Job.Var gives each host its own value, with the precedence
// a tasks.toml command sees: --var > host_vars > group vars > [vars].
func TestJobVarSeesHostVars(t *testing.T) {
	for _, tt := range []struct {
		name string
		cli  map[string]string
		want map[string]string
	}{
		{"no --var", nil, map[string]string{"h1": "app 1 web", "h2": "app 0 web", "h3": "primary 3 top"}},
		{"--var beats every layer", map[string]string{"role": "cli"}, map[string]string{"h1": "cli 1 web", "h2": "cli 0 web", "h3": "cli 3 top"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry()
			if err := r.LoadBytes(filepath.Join(t.TempDir(), "tasks.toml"), []byte(hostVarsFile)); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.cli {
				r.SetVar(k, v)
			}
			var mu sync.Mutex
			got := map[string]string{}
			r.MustAdd(Task{Name: "gshow", Hosts: []string{"@web", "h3"}, Func: func(ctx context.Context, j *Job) error {
				mu.Lock()
				defer mu.Unlock()
				got[j.Host()] = j.Var("role") + " " + j.Var("shard") + " " + j.Var("tier")
				return nil
			}})
			e := &Executor{Registry: r, Local: local.New(), Quiet: true, Output: output.New(nil, nil, output.Options{}),
				Remote: ConnectFunc(func(context.Context, string) (runner.Runner, error) { return local.New(), nil })}
			if err := e.Run(t.Context(), Call{Name: "gshow"}); err != nil {
				t.Fatal(err)
			}
			for h, want := range tt.want {
				if got[h] != want {
					t.Errorf("on %s Var gave %q, want %q (all: %q)", h, got[h], want, got)
				}
			}
		})
	}
}

// --resume reruns a host whose vars changed since it was done: a host
// var is part of what the host ran, as the task's own definition is.
func TestResumeRerunsHostWhoseVarsChanged(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tasks.toml")
	doc := func(h2shard string) string {
		return `
[vars]
shard = "0"

[hosts.web]
hosts = ["h1", "h2", "h3"]
vars = { zone = "eu" }

[host_vars.h2]
shard = "` + h2shard + `"

[tasks.deploy]
hosts = "@web"
run = "echo {{.host}} >> ` + "'" + filepath.Join(dir, "ran") + "'" + `"
`
	}
	run := func(t *testing.T, h2shard, name string, resume bool) []string {
		t.Helper()
		if err := os.WriteFile(file, []byte(doc(h2shard)), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, "ran"))
		r := NewRegistry()
		// gdeploy-go is a Go task: its body is not seen, so the host's
		// vars must be in its fingerprint too.
		r.MustAdd(Task{Name: "gdeploy-go", Hosts: []string{"@web"}, Func: func(ctx context.Context, j *Job) error {
			_, err := j.Run(ctx, "echo "+Quote(j.Host())+" >> "+Quote(filepath.Join(dir, "ran")))
			return err
		}})
		if err := r.Load(file); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		e := &Executor{Registry: r, Local: local.New(), NoPty: true, Resume: resume, Parallel: 1,
			Stdout: &out, Stderr: &out, Output: output.New(&out, &out, output.Options{}),
			Remote: ConnectFunc(func(context.Context, string) (runner.Runner, error) { return local.New(), nil })}
		if err := e.Run(t.Context(), Call{Name: name}); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		b, _ := os.ReadFile(filepath.Join(dir, "ran"))
		hosts := strings.Fields(string(b))
		slices.Sort(hosts)
		return hosts
	}
	for _, name := range []string{"deploy", "gdeploy-go"} {
		t.Run(name, func(t *testing.T) {
			if got := run(t, "2", name, false); !slices.Equal(got, []string{"h1", "h2", "h3"}) {
				t.Fatalf("first run ran on %v, want every host", got)
			}
			if got := run(t, "2", name, true); len(got) != 0 {
				t.Fatalf("--resume with nothing changed ran on %v, want none", got)
			}
			if got := run(t, "22", name, true); !slices.Equal(got, []string{"h2"}) {
				t.Fatalf("--resume after h2's shard changed ran on %v, want h2 only", got)
			}
			if got := run(t, "22", name, true); len(got) != 0 {
				t.Fatalf("--resume again ran on %v, want none", got)
			}
		})
	}
}
