package task

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree writes files (path relative to dir -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A service of an included file is named and resolved as the file's
// tasks are: [services.api] in the file included as web is web:api; its
// deps name the same file's tasks and services ("build" is web:build),
// or the top file's with a leading ':'; its dir, and the directory its
// watch patterns start from, are the included file's directory (or dir
// relative to it); it sees the vars as the file's tasks do.
func TestIncludedService(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"tasks.toml": `
[vars]
port = "8080"
[includes]
web = "web/tasks.toml"
[tasks.lint]
run = "true"
[services.db]
run = "db"
`,
		"web/tasks.toml": `
[vars]
mode = "dev"
[tasks.build]
run = "true"
[services.db]
run = "webdb"
[services.api]
run = "serve --port {{.port}} --mode {{.mode}}"
deps = ["build", "db", ":lint", ":db"]
watch = ["**/*.go"]
[services.worker]
run = "work"
dir = "sub"
`,
	})
	r := NewRegistry()
	if err := r.Load(filepath.Join(dir, "tasks.toml")); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range r.Services() {
		names = append(names, s.Name)
	}
	if want := []string{"db", "web:api", "web:db", "web:worker"}; !slices.Equal(names, want) {
		t.Fatalf("services %q, want %q", names, want)
	}
	api, _ := r.Service("web:api")
	if want := []string{"web:build", "web:db", "lint", "db"}; !slices.Equal(api.Deps, want) {
		t.Errorf("web:api deps %q, want %q", api.Deps, want)
	}
	if _, ok := r.Service("api"); ok {
		t.Error("the included service is also reachable by its short name")
	}
	e := &Executor{Registry: r}
	c, err := e.ServiceCommand(context.Background(), api, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "web"); c.Dir != want {
		t.Errorf("web:api dir %q, want the included file's directory %q", c.Dir, want)
	}
	if !strings.Contains(c.Line, "8080") || !strings.Contains(c.Line, "dev") {
		t.Errorf("web:api line %q, want the top file's port and the included file's mode", c.Line)
	}
	worker, _ := r.Service("web:worker")
	c, err = e.ServiceCommand(context.Background(), worker, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "web", "sub"); c.Dir != want {
		t.Errorf("web:worker dir %q, want %q", c.Dir, want)
	}
}

// Mistakes in an included file's services are load errors at the
// included file's file:line:col, naming the service by its full name.
func TestIncludedServiceErrors(t *testing.T) {
	tests := []struct {
		name string
		top  string
		web  string
		want string
	}{
		{
			name: "unknown dep resolved in the namespace",
			web:  "[tasks.build]\nrun = \"true\"\n[services.api]\nrun = \"x\"\ndeps = [\"bild\"]\n",
			want: `web/tasks.toml:5:9: service "web:api": unknown dependency "web:bild": no task or service has that name; did you mean "web:build"?`,
		},
		{
			name: "bad key",
			web:  "[services.api]\nrun = \"x\"\nrestart = \"sometimes\"\n",
			want: `web/tasks.toml:3:1: service "web:api": restart must be "always", "on-failure" or "no", not "sometimes"`,
		},
		{
			name: "unknown placeholder",
			web:  "[services.api]\nrun = \"serve {{.prot}}\"\n",
			want: `web/tasks.toml:2:1: service "web:api": {{.prot}} is not a var or {{.replica}}; declare it under [vars]`,
		},
		{
			name: "service named like a task of the same file",
			web:  "[tasks.api]\nrun = \"true\"\n[services.api]\nrun = \"x\"\n",
			want: `web/tasks.toml:3:2: service "web:api" has the name of a task; give one of them another name`,
		},
		{
			name: "cycle across the namespace",
			web:  "[services.api]\nrun = \"x\"\ndeps = [\":db\"]\n",
			top:  "[services.db]\nrun = \"x\"\ndeps = [\"web:api\"]\n",
			want: `tasks.toml:5:1: services depend on each other in a cycle: db -> web:api -> db`,
		},
		{
			name: "top service spelled like an included one",
			web:  "[services.api]\nrun = \"x\"\n",
			top:  "[services.\"web:api\"]\nrun = \"x\"\n",
			want: "tasks.toml:3:2: service \"web:api\": a service name is letters, digits, '-' and '_', like api (no '.', which numbers replicas, nor ':', which names includes)\n" +
				`web/tasks.toml:1:2: service "web:api" is already defined in tasks.toml; give one of them another name`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{
				"tasks.toml":     "[includes]\nweb = \"web/tasks.toml\"\n" + tt.top,
				"web/tasks.toml": tt.web,
			})
			t.Chdir(dir) // errors name files as the user wrote them
			err := NewRegistry().Load("tasks.toml")
			if err == nil {
				t.Fatalf("Load succeeded, want %s", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Load error:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
