package task

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseArgs turns command-line strings into typed values, filling in
// defaults and checking required arguments. Unknown names are errors.
func (t *Task) ParseArgs(given map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(t.Args))
	for name, s := range given {
		a := t.arg(name)
		if a == nil {
			msg := fmt.Errorf("unknown argument --%s", name)
			var names []string
			for _, a := range t.Args {
				names = append(names, a.Name)
			}
			if s := closest(name, names); s != "" {
				msg = fmt.Errorf("unknown argument --%s; did you mean --%s?", name, s)
			} else if len(names) == 0 {
				msg = fmt.Errorf("unknown argument --%s: the task takes no arguments", name)
			}
			return nil, &ArgError{Task: t.Name, Err: msg}
		}
		v, err := a.Parse(s)
		if err != nil {
			return nil, &ArgError{Task: t.Name, Arg: a.Name, Err: err}
		}
		out[a.Name] = v // given by its short name or its own
	}
	for i := range t.Args {
		a := &t.Args[i]
		if _, ok := out[a.Name]; ok {
			continue
		}
		if a.Required {
			return nil, &ArgError{Task: t.Name, Arg: a.Name, Err: errors.New("required; give it as --" + a.Name + " VALUE")}
		}
		v, err := a.defaultValue()
		if err != nil {
			return nil, &ArgError{Task: t.Name, Arg: a.Name, Err: err}
		}
		out[a.Name] = v
	}
	return out, nil
}

// PassthroughName is the name of the value that holds the words given
// after `--` on the command line ({{.ARGS}}); no argument may take it.
const PassthroughName = "ARGS"

func (t *Task) arg(name string) *Arg {
	for i := range t.Args {
		if t.Args[i].Name == name || t.Args[i].Short == name {
			return &t.Args[i]
		}
	}
	return nil
}

// ArgType is the type of a task argument.
type ArgType string

// Arg declares one argument of a task.
type Arg struct {
	Name string // --name on the command line
	// Type is the argument's type; empty means String.
	Type ArgType
	// Default is used when the argument is not given: a value of the
	// type's Go type (string, int, bool, time.Duration) or a string that
	// parses as one. Nil means the zero value (or required).
	Default any
	// Required arguments must be given.
	Required bool
	Help     string
	// Short is a one-letter alias, given as -x.
	Short string
}

// Kind is the argument's type: Type, or String when Type is empty.
func (a *Arg) Kind() ArgType {
	if a.Type == "" {
		return String
	}
	return a.Type
}

// Parse turns a command-line string into the argument's Go value.
func (a *Arg) Parse(s string) (any, error) {
	switch a.Kind() {
	case String:
		return s, nil
	case Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return n, nil
	case Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration like 30s, 5m or 1h30m", s)
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown type %q (use string, int, bool or duration)", a.Type)
}

// defaultValue returns the typed default, checking it fits the type.
func (a *Arg) defaultValue() (any, error) {
	if a.Default == nil {
		switch a.Kind() {
		case Int:
			return 0, nil
		case Bool:
			return false, nil
		case Duration:
			return time.Duration(0), nil
		}
		return "", nil
	}
	switch v := a.Default.(type) {
	case string:
		if a.Kind() == String {
			return v, nil
		}
		return a.Parse(v)
	case int:
		if a.Kind() == Int {
			return v, nil
		}
	case int64:
		if a.Kind() == Int {
			return int(v), nil
		}
	case bool:
		if a.Kind() == Bool {
			return v, nil
		}
	case time.Duration:
		if a.Kind() == Duration {
			return v, nil
		}
	}
	return nil, fmt.Errorf("default %v (%T) does not fit type %s", a.Default, a.Default, a.Kind())
}

// formatValue renders an argument value the way it is substituted.
func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case time.Duration:
		return v.String()
	case []string:
		return strings.Join(v, " ")
	}
	return fmt.Sprint(v)
}
