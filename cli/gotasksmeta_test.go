package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gotask/gotask/task"
)

// describeToFile describes reg, as a Go tasks binary asked to with args,
// and returns what it wrote.
func describeToFile(t *testing.T, reg *task.Registry, args []string) *description {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tasks.json")
	if err := describe(reg, args, path); err != nil {
		t.Fatal(err)
	}
	d, err := readDescription(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A description gives back every field of every task but the function,
// and the registry's own settings, with the Go types of the defaults.
func TestDescriptionRoundTrip(t *testing.T) {
	yes, three := true, 3
	noop := func(context.Context, *task.Job) error { return nil }
	reg := task.NewRegistry()
	reg.Vars["region"] = "eu"
	reg.Default = "greet"
	reg.Groups["web"] = &task.HostGroup{Hosts: []string{"web1", "web2"}, User: "deploy", Port: 2222, SudoPasswordEnv: "WEB_PW"}
	reg.SudoPasswordCmd = "pass show sudo"
	reg.MustAdd(task.Task{
		Name:    "greet",
		Help:    "Greet\n\nat length",
		Aliases: []string{"g", "hi"},
		Args: []task.Arg{
			{Name: "name", Short: "n", Default: "world", Help: "who"},
			{Name: "times", Type: task.Int, Default: 2},
			{Name: "big", Type: task.Int, Default: int64(1) << 40},
			{Name: "loud", Type: task.Bool, Default: true},
			{Name: "wait", Type: task.Duration, Default: 1500 * time.Millisecond},
			{Name: "spelt", Type: task.Duration, Default: "1m"},
			{Name: "to", Required: true},
		},
		Deps:  []string{"build"},
		Post:  []string{"build"},
		Func:  noop,
		Hosts: []string{"@web"}, Serial: 1, MaxFail: "25%",
		Hidden: true, Confirm: "Sure?",
	})
	reg.MustAdd(task.Task{
		Name: "build",
		Steps: []task.Step{
			{Run: "make", Env: map[string]string{"CC": "cc"}, Pty: &yes, Retries: &three, Timeout: time.Minute},
			{Task: "greet", With: map[string]string{"to": "x"}},
			{Put: "a", To: "b", Mode: 0o755, Once: true, Answers: []task.Answer{{Pattern: "ok", Response: "y\n"}}},
		},
		Dir: "sub", Env: map[string]string{}, Pty: &yes, Warn: true, Timeout: time.Hour, Retries: 1, Sudo: "root",
		Answers: []task.Answer{{Pattern: "pw", ResponseEnv: "PW"}},
		Sources: []string{"*.go"}, Generates: []string{"bin"}, Status: []string{"test -e bin"}, UseGitignore: true,
		Args: []task.Arg{},
	})

	d := describeToFile(t, reg, describeArgs)
	if d.Unavailable != "" {
		t.Fatalf("unavailable: %s", d.Unavailable)
	}
	got, err := d.registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"greet", "build"} {
		want, _ := reg.Lookup(name)
		have, ok := got.Lookup(name)
		if !ok {
			t.Fatalf("task %s is missing", name)
		}
		if (have.Func != nil) != (want.Func != nil) {
			t.Errorf("task %s: Func set %v, want %v", name, have.Func != nil, want.Func != nil)
		}
		w, h := *want, *have
		w.Func, h.Func = nil, nil
		if !reflect.DeepEqual(h, w) {
			t.Errorf("task %s:\n got %#v\nwant %#v", name, h, w)
		}
	}
	if g, _ := got.Lookup("g"); g == nil || g.Name != "greet" {
		t.Errorf("alias g does not resolve to greet")
	}
	wantReg, _ := json.Marshal(reg)
	gotReg, _ := json.Marshal(got)
	if string(gotReg) != string(wantReg) {
		t.Errorf("registry settings:\n got %s\nwant %s", gotReg, wantReg)
	}
	g, _ := got.Lookup("greet")
	if err := g.Func(t.Context(), nil); err == nil {
		t.Error("a described Go task's function succeeded; it must never pretend to run")
	}
}

// What a description cannot hold faithfully makes it unavailable, so that
// the binary answers instead.
func TestDescriptionUnavailable(t *testing.T) {
	fromTOML := task.NewRegistry()
	if err := fromTOML.LoadBytes("tasks.toml", []byte("[tasks.a]\nrun = \"true\"\n")); err != nil {
		t.Fatal(err)
	}
	goOnly := task.NewRegistry()
	goOnly.MustAdd(task.Task{Name: "a", Func: func(context.Context, *task.Job) error { return nil }})

	tests := []struct {
		name string
		reg  *task.Registry
		args []string
		want string
	}{
		{"tasks loaded by the program itself", fromTOML, describeArgs, "do not survive"},
		{"arguments changed by the program", goOnly, []string{"-l"}, "changes the arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := describeToFile(t, tt.reg, tt.args)
			if !strings.Contains(d.Unavailable, tt.want) {
				t.Errorf("Unavailable = %q, want it to say %q", d.Unavailable, tt.want)
			}
			if _, err := d.registry(); err == nil {
				t.Error("registry() of an unavailable description succeeded")
			}
		})
	}
}

func TestParseDescriptionRefuses(t *testing.T) {
	for _, data := range []string{
		``,
		`{not json`,
		`{"format":0,"tasks":[{"Name":"a"}]}`,
		`{"format":999,"tasks":[{"Name":"a"}]}`,
		fmt.Sprintf(`{"format":%d,"tasks":[{"Name":"a","Args":[{"Name":"x","Default":{"Type":"float","Value":"1"}}]}]}`, descriptionFormat),
	} {
		d, err := parseDescription([]byte(data))
		if err == nil {
			_, err = d.registry()
		}
		if err == nil {
			t.Errorf("%s: accepted", data)
		}
	}
}

func TestSameGotask(t *testing.T) {
	tests := []struct {
		writer, reader string
		want           bool
	}{
		{"v0.3.0", "v0.3.0", true},
		{"v0.3.0", "v0.4.0", false},
		{"v0.0.0-20260101000000-abcdefabcdef", "v0.3.0", false},
		{"", "v0.3.0", true}, // a development build: the format decides
		{"v0.3.0", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := sameGotask(tt.writer, tt.reader); got != tt.want {
			t.Errorf("sameGotask(%q, %q) = %v, want %v", tt.writer, tt.reader, got, tt.want)
		}
	}
}

// A binary that cannot describe itself (here: one that ignores the
// request and exits) is recorded as unavailable, once.
func TestDescribeBinaryUnavailable(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "gotasks")
	log := filepath.Join(dir, "ran")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho \"$@\" >> "+log+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := describedRegistry(t.Context(), bin); err == nil || !strings.Contains(err.Error(), "did not describe") {
			t.Fatalf("describedRegistry: %v, want an error saying the binary did not describe its tasks", err)
		}
	}
	ran, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if string(ran) != "--version\n" {
		t.Errorf("the binary ran with %q, want once with --version", ran)
	}
}
