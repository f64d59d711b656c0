package task

import (
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestArgParse(t *testing.T) {
	tests := []struct {
		typ     ArgType
		in      string
		want    any
		wantErr string
	}{
		{typ: "", in: "anything at all", want: "anything at all"},
		{typ: String, in: "", want: ""},
		{typ: String, in: "$(id)", want: "$(id)"},
		{typ: Int, in: "42", want: 42},
		{typ: Int, in: "-7", want: -7},
		{typ: Int, in: " 8 ", want: 8},
		{typ: Int, in: "abc", wantErr: `"abc" is not a whole number`},
		{typ: Int, in: "1.5", wantErr: `"1.5" is not a whole number`},
		{typ: Int, in: "", wantErr: `"" is not a whole number`},
		{typ: Int, in: "99999999999999999999999", wantErr: "is not a whole number"},
		{typ: Bool, in: "true", want: true},
		{typ: Bool, in: "false", want: false},
		{typ: Bool, in: "1", want: true},
		{typ: Bool, in: "yes", wantErr: `"yes" is not true or false`},
		{typ: Duration, in: "90s", want: 90 * time.Second},
		{typ: Duration, in: "1h30m", want: 90 * time.Minute},
		{typ: Duration, in: "5", wantErr: `"5" is not a duration like 30s, 5m or 1h30m`},
		{typ: "float", in: "1.5", wantErr: `unknown type "float"`},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.in, func(t *testing.T) {
			a := &Arg{Name: "x", Type: tt.typ}
			got, err := a.Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	renice := &Task{Name: "renice", Args: []Arg{
		{Name: "pid", Type: Int, Required: true, Short: "p"},
		{Name: "nice", Type: Int, Default: 10},
		{Name: "user", Default: "root"},
		{Name: "dry", Type: Bool},
		{Name: "wait", Type: Duration, Default: "2s"},
		{Name: "note"},
	}}
	defaults := map[string]any{"nice": 10, "user": "root", "dry": false, "wait": 2 * time.Second, "note": ""}
	with := func(extra map[string]any) map[string]any {
		m := maps.Clone(defaults)
		maps.Copy(m, extra)
		return m
	}

	tests := []struct {
		name    string
		task    *Task
		given   map[string]string
		want    map[string]any
		wantArg string // ArgError.Arg for an error
		wantErr string
	}{
		{
			name:  "defaults fill the rest",
			task:  renice,
			given: map[string]string{"pid": "42"},
			want:  with(map[string]any{"pid": 42}),
		},
		{
			name:  "every type given",
			task:  renice,
			given: map[string]string{"pid": "1", "nice": "-5", "user": "ada", "dry": "true", "wait": "1m", "note": "a b"},
			want:  map[string]any{"pid": 1, "nice": -5, "user": "ada", "dry": true, "wait": time.Minute, "note": "a b"},
		},
		{
			name:  "by short name",
			task:  renice,
			given: map[string]string{"p": "7"},
			want:  with(map[string]any{"pid": 7}),
		},
		{
			name:    "bad value by short name names the argument",
			task:    renice,
			given:   map[string]string{"p": "x"},
			wantArg: "pid",
			wantErr: `task "renice": argument --pid: "x" is not a whole number`,
		},
		{
			name:    "bad int names task and argument",
			task:    renice,
			given:   map[string]string{"pid": "abc"},
			wantArg: "pid",
			wantErr: `task "renice": argument --pid: "abc" is not a whole number`,
		},
		{
			name:    "missing required",
			task:    renice,
			given:   map[string]string{"nice": "3"},
			wantArg: "pid",
			wantErr: `task "renice": argument --pid: required; give it as --pid VALUE`,
		},
		{
			name:    "unknown with suggestion",
			task:    renice,
			given:   map[string]string{"pdi": "1"},
			wantErr: `task "renice": unknown argument --pdi; did you mean --pid?`,
		},
		{
			name:    "unknown without suggestion",
			task:    renice,
			given:   map[string]string{"verbose": "1"},
			wantErr: `task "renice": unknown argument --verbose`,
		},
		{
			name:    "task without arguments",
			task:    &Task{Name: "plain"},
			given:   map[string]string{"x": "1"},
			wantErr: `task "plain": unknown argument --x: the task takes no arguments`,
		},
		{
			name: "no arguments at all",
			task: &Task{Name: "plain"},
			want: map[string]any{},
		},
		{
			name:  "zero values without defaults",
			task:  &Task{Name: "z", Args: []Arg{{Name: "s"}, {Name: "i", Type: Int}, {Name: "b", Type: Bool}, {Name: "d", Type: Duration}}},
			given: nil,
			want:  map[string]any{"s": "", "i": 0, "b": false, "d": time.Duration(0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.task.ParseArgs(tt.given)
			if tt.wantErr != "" {
				var ae *ArgError
				if !errors.As(err, &ae) {
					t.Fatalf("ParseArgs(%v) error = %v (%T), want an *ArgError", tt.given, err, err)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("error = %q, want %q", err, tt.wantErr)
				}
				if ae.Task != tt.task.Name || ae.Arg != tt.wantArg {
					t.Errorf("ArgError{Task: %q, Arg: %q}, want {%q, %q}", ae.Task, ae.Arg, tt.task.Name, tt.wantArg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseArgs(%v): %v", tt.given, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseArgs(%v) = %v, want %v", tt.given, got, tt.want)
			}
		})
	}
}

func TestParseCallPositional(t *testing.T) {
	tk := &Task{Name: "cp", Args: []Arg{
		{Name: "force", Type: Bool},
		{Name: "mode", Type: Int, Positional: true, Default: 644},
		{Name: "files", Positional: true, Variadic: true},
	}}
	for _, tc := range []struct {
		name string
		call Call
		want map[string]any
		err  string
	}{
		{"none", Call{}, map[string]any{"force": false, "mode": 644, "files": []string(nil)}, ""},
		{"in order, the rest to the variadic", Call{Positional: []string{"600", "a", "$(id)"}},
			map[string]any{"force": false, "mode": 600, "files": []string{"a", "$(id)"}}, ""},
		{"a flag fills its slot, words go on to the next", Call{Args: map[string]string{"mode": "700"}, Positional: []string{"a"}},
			map[string]any{"force": false, "mode": 700, "files": []string{"a"}}, ""},
		{"passthrough is ARGS", Call{Positional: []string{"1"}, Passthrough: []string{"-v"}},
			map[string]any{"force": false, "mode": 1, "files": []string(nil), "ARGS": []string{"-v"}}, ""},
		{"typed", Call{Positional: []string{"x"}}, nil, `argument --mode: "x" is not a whole number`},
		{"both flag and words", Call{Args: map[string]string{"mode": "1", "files": "a"}, Positional: []string{"b"}}, nil, `unexpected word "b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tk.ParseCall(tc.call)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseCall(%+v) error = %v, want one saying %q", tc.call, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseCall(%+v) = %#v, want %#v", tc.call, got, tc.want)
			}
		})
	}
}

func TestParseCallTooManyWords(t *testing.T) {
	tk := &Task{Name: "t", Args: []Arg{{Name: "a", Positional: true}}}
	_, err := tk.ParseCall(Call{Positional: []string{"x", "y"}})
	if err == nil || !strings.Contains(err.Error(), `unexpected word "y": the task takes only A after its name`) {
		t.Fatalf("err = %v, want unexpected word y", err)
	}
}
