package task

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/local"
)

// hostVarsFile has one var at every layer: [vars], a group's vars and
// host_vars. h1 is in two groups: the first by name gives its group vars.
const hostVarsFile = `
[vars]
role = "none"
shard = "0"
tier = "top"

[hosts.web]
hosts = ["h1", "h2"]
vars = { role = "app", tier = "web" }

[hosts.zdb]
hosts = ["h1", "h3"]
vars = { role = "db" }

[host_vars.h1]
shard = "1"

[host_vars.h3]
shard = "3"
role = "primary"

[tasks.show]
hosts = ["@web", "h3"]
run = "printf '%s %s %s\\n' {{.role}} {{.shard}} {{.tier}}"
`

// runHostVars loads file, applies the CLI's --var overrides the way
// cli.setVars does (SetVar) and runs show on its hosts, which are this
// machine through the real local runner. It returns each host's line.
func runHostVars(t *testing.T, file string, cliVars map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tasks.toml")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range cliVars {
		r.SetVar(k, v)
	}
	var out strings.Builder
	e := &Executor{Registry: r, Local: local.New(), Stdout: &out, NoPty: true, Quiet: true,
		Output: output.New(&out, nil, output.Options{}),
		Remote: ConnectFunc(func(context.Context, string) (runner.Runner, error) { return local.New(), nil })}
	if err := e.Run(t.Context(), Call{Name: "show"}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		host, rest, ok := strings.Cut(strings.TrimPrefix(line, "["), "] ")
		if ok {
			got[host] = rest
		}
	}
	return got
}

// The precedence the README documents: --var > host_vars > group vars >
// [vars], a host in two groups taking the first group by name.
func TestHostVarsPrecedence(t *testing.T) {
	tests := []struct {
		name string
		cli  map[string]string
		want map[string]string
	}{
		{
			name: "no --var",
			want: map[string]string{
				"h1": "app 1 web",     // group web's role over zdb's; its own shard
				"h2": "app 0 web",     // group vars over [vars]
				"h3": "primary 3 top", // host_vars over group zdb's role
			},
		},
		{
			name: "--var beats every layer",
			cli:  map[string]string{"role": "cli", "shard": "9"},
			want: map[string]string{"h1": "cli 9 web", "h2": "cli 9 web", "h3": "cli 9 top"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runHostVars(t, hostVarsFile, tt.cli)
			for h, want := range tt.want {
				if got[h] != want {
					t.Errorf("host %s printed %q, want %q (all: %q)", h, got[h], want, got)
				}
			}
		})
	}
}

// A var that only hosts define is known at load time (no "unknown name"
// error) and a host that lacks it fails with a message naming the host
// and the var.
func TestHostVarsOnlySomeHosts(t *testing.T) {
	file := `
[hosts.web]
hosts = ["h1", "h2"]

[host_vars.h1]
shard = "1"

[tasks.show]
hosts = ["@web"]
run = "echo {{.shard}}"
`
	dir := t.TempDir()
	path := filepath.Join(dir, "tasks.toml")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatalf("a var defined only in host_vars is refused at load: %v", err)
	}
	var out strings.Builder
	e := &Executor{Registry: r, Local: local.New(), Stdout: &out, Stderr: &out, NoPty: true,
		Output: output.New(&out, &out, output.Options{}),
		Remote: ConnectFunc(func(context.Context, string) (runner.Runner, error) { return local.New(), nil })}
	err = e.Run(t.Context(), Call{Name: "show"})
	if err == nil {
		t.Fatalf("h2 has no shard, yet the run succeeded:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "{{.shard}} has no value on host h2: set it under [host_vars.\"h2\"]") {
		t.Errorf("error %q does not say that h2 lacks shard and where to set it\n%s", err, out.String())
	}
}

// Hostile values in group vars and host_vars reach the command as their
// literal text: they are data, never code.
func TestHostVarsHostileValuesAreLiteral(t *testing.T) {
	hostile := []string{`$(touch pwned)`, "`touch pwned`", `'; touch pwned; '`, `"; touch pwned; "`, "a\nb", `\`, `*`}
	var b strings.Builder
	b.WriteString("[hosts.web]\nhosts = [\"h1\"]\nvars = { g = " + tomlQuote(hostile[0]) + " }\n\n[host_vars.h1]\n")
	for i, v := range hostile {
		b.WriteString("v" + string(rune('a'+i)) + " = " + tomlQuote(v) + "\n")
	}
	b.WriteString("\n[tasks.show]\nhosts = [\"@web\"]\nsteps = [\n")
	b.WriteString("  { run = \"printf '%s|' {{.g}}\" },\n")
	for i := range hostile {
		n := "v" + string(rune('a'+i))
		b.WriteString("  { run = \"printf '%s|' {{." + n + "}}\" },\n")
		b.WriteString("  { run = \"printf '%s|' \\\"{{." + n + "}}\\\"\" },\n")
	}
	b.WriteString("]\n")
	dir := t.TempDir()
	path := filepath.Join(dir, "tasks.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r.Dir = dir
	var out strings.Builder
	e := &Executor{Registry: r, Local: local.New(), Stdout: &out, NoPty: true, Quiet: true,
		Output: output.New(&out, nil, output.Options{}),
		Remote: ConnectFunc(func(context.Context, string) (runner.Runner, error) { return local.New(), nil })}
	if err := e.Run(t.Context(), Call{Name: "show"}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("a host var ran as code: pwned exists")
	}
	want := []string{hostile[0]}
	for _, v := range hostile {
		want = append(want, v, v)
	}
	got := strings.ReplaceAll(out.String(), "[h1] ", "")
	if w := strings.Join(want, "|") + "|"; strings.TrimSuffix(got, "\n") != w {
		t.Errorf("output %q\nwant the literal values %q", got, w)
	}
}

func tomlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
