package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The --list --json output is a contract with editors and scripts: decode
// it into the documented shape, refusing unknown fields.
func TestListJSONShape(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tasks.toml")
	err := os.WriteFile(file, []byte(`
default = "build"

[tasks.build]
help = "Build it"
aliases = ["b"]
deps = ["gen"]
args = [
  { name = "os", help = "target OS", default = "linux" },
  { name = "jobs", type = "int", required = true },
  { name = "race", type = "bool" },
  { name = "wait", type = "duration", default = "1m" },
]
run = "true"

[tasks.gen]
run = "true"

[tasks.secret]
hidden = true
run = "true"
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runMain(t, "-f", file, "--list", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}

	type arg struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Required bool   `json:"required"`
		Default  any    `json:"default"`
		Help     string `json:"help"`
	}
	type jsonTask struct {
		Name    string   `json:"name"`
		Help    string   `json:"help"`
		Aliases []string `json:"aliases"`
		Args    []arg    `json:"args"`
		Deps    []string `json:"deps"`
		Hosts   []string `json:"hosts"`
		Default bool     `json:"default"`
		Go      bool     `json:"go"`
	}
	var got []jsonTask
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("--list --json is not the documented shape: %v\n%s", err, stdout)
	}

	if len(got) != 2 || got[0].Name != "build" || got[1].Name != "gen" {
		t.Fatalf("tasks = %+v, want build and gen (hidden secret left out), sorted", got)
	}
	build, gen := got[0], got[1]
	if !build.Default || gen.Default {
		t.Errorf("default: build %v, gen %v; want only build", build.Default, gen.Default)
	}
	if len(build.Aliases) != 1 || build.Aliases[0] != "b" || len(build.Deps) != 1 || build.Deps[0] != "gen" {
		t.Errorf("build aliases %q deps %q", build.Aliases, build.Deps)
	}
	if gen.Aliases == nil || gen.Deps == nil || gen.Args == nil {
		t.Errorf("gen has null lists, want []: %s", stdout)
	}
	wantArgs := []arg{
		{Name: "os", Type: "string", Default: "linux", Help: "target OS"},
		{Name: "jobs", Type: "int", Required: true},
		{Name: "race", Type: "bool"},
		{Name: "wait", Type: "duration", Default: "1m"},
	}
	if len(build.Args) != len(wantArgs) {
		t.Fatalf("build args = %+v, want %+v", build.Args, wantArgs)
	}
	for i, want := range wantArgs {
		if build.Args[i] != want {
			t.Errorf("build arg %d = %+v, want %+v", i, build.Args[i], want)
		}
	}
}
