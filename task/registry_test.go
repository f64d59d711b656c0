package task

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestRegistryAdd(t *testing.T) {
	noop := []Step{{Run: "true"}}
	tests := []struct {
		name    string
		before  []Task // added first, must succeed
		add     Task
		wantErr string // "" means Add succeeds
	}{
		{name: "simple", add: Task{Name: "build", Steps: noop}},
		{name: "name with punctuation", add: Task{Name: "db:migrate-up_v2.1", Steps: noop}},
		{name: "no body is fine", add: Task{Name: "group", Deps: []string{"a"}}},
		{name: "empty name", add: Task{}, wantErr: `invalid task name ""`},
		{name: "name starting with a digit", add: Task{Name: "1st"}, wantErr: `invalid task name "1st"`},
		{name: "name with a space", add: Task{Name: "my task"}, wantErr: `invalid task name "my task"`},
		{name: "flag-like name", add: Task{Name: "-x"}, wantErr: `invalid task name "-x"`},
		{name: "bad alias", add: Task{Name: "a", Aliases: []string{"b c"}}, wantErr: `task "a": invalid alias "b c"`},
		{
			name:    "defined twice",
			before:  []Task{{Name: "build"}},
			add:     Task{Name: "build"},
			wantErr: `task "build" is defined twice`,
		},
		{
			name:    "alias taken by a task name",
			before:  []Task{{Name: "build"}},
			add:     Task{Name: "compile", Aliases: []string{"build"}},
			wantErr: `name "build" of task "compile" is already taken by task "build"`,
		},
		{
			name:    "alias taken by an alias",
			before:  []Task{{Name: "build", Aliases: []string{"b"}}},
			add:     Task{Name: "bench", Aliases: []string{"b"}},
			wantErr: `name "b" of task "bench" is already taken by task "build"`,
		},
		{
			name:    "name taken by an alias",
			before:  []Task{{Name: "build", Aliases: []string{"b"}}},
			add:     Task{Name: "b"},
			wantErr: `name "b" of task "b" is already taken by task "build"`,
		},
		{
			name:    "Go code and commands",
			add:     Task{Name: "both", Steps: noop, Func: func(context.Context, *Job) error { return nil }},
			wantErr: `task "both" has both Go code and commands`,
		},
		{name: "negative retries", add: Task{Name: "r", Retries: -1}, wantErr: "must not be negative"},
		{name: "put mode with the setuid bit", add: Task{Name: "p", Steps: []Step{{Put: "a", To: "b", Mode: 0o755 | fs.ModeSetuid}}}, wantErr: `task "p": step 1: mode 0o40000755 has bits beyond the permission bits`},
		{name: "put mode of permission bits", add: Task{Name: "p", Steps: []Step{{Put: "a", To: "b", Mode: 0o755}}}},
		{
			name:    "bad argument name",
			add:     Task{Name: "a", Args: []Arg{{Name: "--pid"}}},
			wantErr: `task "a": invalid argument name "--pid"`,
		},
		{
			name:    "argument declared twice",
			add:     Task{Name: "a", Args: []Arg{{Name: "pid"}, {Name: "pid"}}},
			wantErr: `argument "pid" is declared twice`,
		},
		{
			name:    "short flag declared twice",
			add:     Task{Name: "a", Args: []Arg{{Name: "pid", Short: "p"}, {Name: "port", Short: "p"}}},
			wantErr: `argument "port" is declared twice`,
		},
		{
			name:    "long short flag",
			add:     Task{Name: "a", Args: []Arg{{Name: "pid", Short: "pi"}}},
			wantErr: `short must be one letter, not "pi"`,
		},
		{
			name:    "--help is reserved",
			add:     Task{Name: "a", Args: []Arg{{Name: "help"}}},
			wantErr: "the name help and the short h are reserved",
		},
		{
			name:    "-h is reserved",
			add:     Task{Name: "a", Args: []Arg{{Name: "host", Short: "h"}}},
			wantErr: "the name help and the short h are reserved",
		},
		{
			name:    "unknown type",
			add:     Task{Name: "a", Args: []Arg{{Name: "n", Type: "float"}}},
			wantErr: `argument "n" has unknown type "float"`,
		},
		{
			name:    "default of the wrong Go type",
			add:     Task{Name: "a", Args: []Arg{{Name: "n", Type: Int, Default: true}}},
			wantErr: `argument "n": default true (bool) does not fit type int`,
		},
		{
			name:    "default string that does not parse",
			add:     Task{Name: "a", Args: []Arg{{Name: "d", Type: Duration, Default: "soon"}}},
			wantErr: `argument "d": "soon" is not a duration`,
		},
		{
			name: "defaults that fit",
			add: Task{Name: "a", Args: []Arg{
				{Name: "s", Default: "x"},
				{Name: "i", Type: Int, Default: 3},
				{Name: "i64", Type: Int, Default: int64(3)},
				{Name: "is", Type: Int, Default: "3"},
				{Name: "b", Type: Bool, Default: true},
				{Name: "d", Type: Duration, Default: "1m"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry()
			for _, b := range tt.before {
				r.MustAdd(b)
			}
			err := r.Add(tt.add)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				if _, ok := r.Lookup(tt.add.Name); !ok {
					t.Fatalf("Add succeeded but Lookup(%q) finds nothing", tt.add.Name)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Add error = %v, want one containing %q", err, tt.wantErr)
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Errorf("Add error is %T, want a *LoadError", err)
			}
			if n := len(r.Tasks()); n != len(tt.before) {
				t.Errorf("a failed Add left %d tasks, want %d", n, len(tt.before))
			}
		})
	}
}

func TestMustAddPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustAdd of an invalid task did not panic")
		}
	}()
	NewRegistry().MustAdd(Task{Name: "not valid"})
}

func TestRegistryResolve(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "build", Aliases: []string{"b", "compile"}})
	r.MustAdd(Task{Name: "test"})
	r.MustAdd(Task{Name: "deploy"})
	r.MustAdd(Task{Name: "secret", Hidden: true})

	tests := []struct {
		in         string
		want       string // the task found; "" for an error
		suggestion string
	}{
		{in: "build", want: "build"},
		{in: "b", want: "build"},
		{in: "compile", want: "build"},
		{in: "secret", want: "secret"}, // hidden tasks run by name
		{in: "buidl", suggestion: "build"},
		{in: "tset", suggestion: "test"},
		{in: "deplyo", suggestion: "deploy"},
		{in: "compil", suggestion: "compile"}, // aliases are suggested
		{in: "secrte"},                        // hidden tasks are not
		{in: "zzzzzzz"},
		{in: "x"},
		{in: ""},
		{in: "Build", suggestion: "build"}, // names are case-sensitive
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := r.Resolve(tt.in)
			if tt.want != "" {
				if err != nil || got.Name != tt.want {
					t.Fatalf("Resolve(%q) = %v, %v; want task %q", tt.in, got, err, tt.want)
				}
				return
			}
			var ut *UnknownTaskError
			if !errors.As(err, &ut) {
				t.Fatalf("Resolve(%q) error = %v, want an *UnknownTaskError", tt.in, err)
			}
			if ut.Name != tt.in || ut.Suggestion != tt.suggestion {
				t.Errorf("Resolve(%q): name %q, suggestion %q; want suggestion %q", tt.in, ut.Name, ut.Suggestion, tt.suggestion)
			}
			if tt.suggestion != "" && !strings.Contains(err.Error(), `did you mean "`+tt.suggestion+`"?`) {
				t.Errorf("error %q does not suggest %q", err, tt.suggestion)
			}
			if tt.suggestion == "" && err.Error() != fmt.Sprintf("unknown task %q", tt.in) {
				t.Errorf("error %q, want just the unknown name (cli adds how to list the tasks)", err)
			}
		})
	}
}

func TestRegistryValidate(t *testing.T) {
	tests := []struct {
		name    string
		tasks   []Task
		dflt    string
		wantErr []string // substrings, each of which must appear; nil means valid
	}{
		{
			name: "valid graph",
			tasks: []Task{
				{Name: "a", Deps: []string{"b", "c"}, Post: []string{"d"}},
				{Name: "b", Deps: []string{"c"}},
				{Name: "c", Aliases: []string{"cee"}},
				{Name: "d", Steps: []Step{{Task: "cee"}}},
			},
			dflt: "a",
		},
		{name: "default by alias", tasks: []Task{{Name: "a", Aliases: []string{"x"}}}, dflt: "x"},
		{
			name:    "unknown dependency with suggestion",
			tasks:   []Task{{Name: "build", Deps: []string{"tset"}}, {Name: "test"}},
			wantErr: []string{`task "build": unknown dependency "tset"; did you mean "test"?`},
		},
		{
			name:    "unknown post task and task step, all reported",
			tasks:   []Task{{Name: "a", Post: []string{"nope"}, Steps: []Step{{Task: "gone"}}}},
			wantErr: []string{`task "a": unknown post task "nope"`, `task "a": unknown task "gone"`},
		},
		{
			name:    "cycle of two",
			tasks:   []Task{{Name: "a", Deps: []string{"b"}}, {Name: "b", Deps: []string{"a"}}},
			wantErr: []string{"dependency cycle: a -> b -> a"},
		},
		{
			name:    "cycle of one",
			tasks:   []Task{{Name: "a", Deps: []string{"a"}}},
			wantErr: []string{"dependency cycle: a -> a"},
		},
		{
			name: "cycle through post and a task step, reached from outside",
			tasks: []Task{
				{Name: "a", Deps: []string{"b"}},
				{Name: "b", Post: []string{"c"}},
				{Name: "c", Steps: []Step{{Task: "d"}}},
				{Name: "d", Deps: []string{"b"}},
			},
			wantErr: []string{"dependency cycle: b -> c -> d -> b"},
		},
		{
			name:    "cycle through an alias",
			tasks:   []Task{{Name: "a", Aliases: []string{"x"}, Deps: []string{"b"}}, {Name: "b", Deps: []string{"x"}}},
			wantErr: []string{"dependency cycle: a -> b -> a"},
		},
		{
			name:    "missing default",
			tasks:   []Task{{Name: "a"}},
			dflt:    "b",
			wantErr: []string{`default task "b" does not exist`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry()
			for _, task := range tt.tasks {
				r.MustAdd(task)
			}
			r.Default = tt.dflt
			err := r.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate succeeded, want errors %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestClosest(t *testing.T) {
	candidates := []string{"build", "test", "deploy", "db:migrate", "lint", "a", "b"}
	tests := []struct {
		name, want string
	}{
		{"build", "build"},
		{"biuld", "build"},
		{"buil", "build"},
		{"builds", "build"},
		{"tets", "test"},
		{"deplyo", "deploy"},
		{"db:migrat", "db:migrate"},
		{"db-migrate", "db:migrate"},
		{"lnit", "lint"},
		{"c", ""},       // replacing every letter is not a typo
		{"xyz", ""},     // nothing near
		{"compile", ""}, // nothing near
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := closest(tt.name, candidates); got != tt.want {
				t.Errorf("closest(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"a", "", 1},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"build", "biuld", 2},
		{"same", "same", 0},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}
