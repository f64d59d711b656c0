package task

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseArgs turns command-line strings into typed values, filling in
// defaults and checking required arguments. Unknown names are errors.
// A variadic argument's value is a []string (its words, each checked
// against the type); given here, it is one word.
func (t *Task) ParseArgs(given map[string]string) (map[string]any, error) {
	return t.parseArgs(given, nil)
}

// ParseCall is ParseArgs for a call: the call's positional words fill
// the task's positional arguments that its flags left unset, in the
// order they are declared, and a variadic argument takes the rest. A
// word left over is an error.
func (t *Task) ParseCall(c Call) (map[string]any, error) {
	given, lists, err := t.fill(c)
	if err != nil {
		return nil, err
	}
	args, err := t.parseArgs(given, lists)
	if err != nil {
		return nil, err
	}
	if len(c.Passthrough) > 0 {
		args[PassthroughName] = slices.Clone(c.Passthrough)
	}
	return args, nil
}

// Missing returns the required arguments that c leaves unset, in the
// order they are declared (nil if a word of c is left over: ParseCall
// reports that).
func (t *Task) Missing(c Call) []*Arg {
	given, lists, err := t.fill(c)
	if err != nil {
		return nil
	}
	var out []*Arg
	for i := range t.Args {
		a := &t.Args[i]
		if _, ok := lists[a.Name]; a.Required && !ok && !a.givenIn(given) {
			out = append(out, a)
		}
	}
	return out
}

// fill maps the call's positional words to the task's positional
// arguments: the single words join the flags' values in given, a
// variadic argument's words are in lists.
func (t *Task) fill(c Call) (given map[string]string, lists map[string][]string, err error) {
	given = maps.Clone(c.Args)
	if given == nil {
		given = map[string]string{}
	}
	words := c.Positional
	for i := range t.Args {
		a := &t.Args[i]
		if !a.Positional || len(words) == 0 || a.givenIn(given) {
			continue
		}
		if a.Variadic {
			lists = map[string][]string{a.Name: words}
			words = nil
			break
		}
		given[a.Name], words = words[0], words[1:]
	}
	if len(words) > 0 {
		return nil, nil, &ArgError{Task: t.Name, Err: fmt.Errorf("unexpected word %q: %s", words[0], t.positionalUsage())}
	}
	return given, lists, nil
}

// positionalUsage says how many words the task takes after its name.
func (t *Task) positionalUsage() string {
	var names []string
	for _, a := range t.Args {
		if a.Positional {
			names = append(names, a.Usage())
		}
	}
	if len(names) == 0 {
		return "the task takes no words after its name, only --flags (and words after --, as {{.ARGS}})"
	}
	return "the task takes only " + strings.Join(names, " ") + " after its name (a word after -- goes to {{.ARGS}})"
}

// Usage is how the argument is written on the command line: --name TYPE,
// or NAME (NAME... if variadic) for a positional argument.
func (a *Arg) Usage() string {
	switch {
	case a.Variadic:
		return strings.ToUpper(a.Name) + "..."
	case a.Positional:
		return strings.ToUpper(a.Name)
	case a.Kind() == Bool:
		return "--" + a.Name
	}
	return "--" + a.Name + " " + strings.ToUpper(string(a.Kind()))
}

// givenIn reports whether given holds a value for a, by its name or its
// short name.
func (a *Arg) givenIn(given map[string]string) bool {
	if _, ok := given[a.Name]; ok {
		return true
	}
	_, ok := given[a.Short]
	return a.Short != "" && ok
}

// parseArgs is ParseArgs, with the words of variadic arguments in lists.
func (t *Task) parseArgs(given map[string]string, lists map[string][]string) (map[string]any, error) {
	out := make(map[string]any, len(t.Args))
	for name, words := range lists {
		a := t.arg(name)
		for _, w := range words {
			if _, err := a.Parse(w); err != nil {
				return nil, &ArgError{Task: t.Name, Arg: a.Name, Err: err}
			}
		}
		out[a.Name] = slices.Clone(words)
	}
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
		if a.Variadic {
			v = []string{s}
		}
		out[a.Name] = v // given by its short name or its own
	}
	for i := range t.Args {
		a := &t.Args[i]
		if _, ok := out[a.Name]; ok {
			continue
		}
		if v, ok, err := a.fromEnv(); ok || err != nil {
			if err != nil {
				return nil, &ArgError{Task: t.Name, Arg: a.Name, Err: err}
			}
			out[a.Name] = v
			continue
		}
		if a.Required {
			how := "required; give it as --" + a.Name + " VALUE"
			switch {
			case a.Variadic:
				how = fmt.Sprintf("required; give at least one word after the task name (gotask %s %s)", t.Name, a.Usage())
			case a.Positional:
				how = fmt.Sprintf("required; give it after the task name (gotask %s %s) or as --%s VALUE", t.Name, a.Usage(), a.Name)
			}
			return nil, &ArgError{Task: t.Name, Arg: a.Name, Err: errors.New(how)}
		}
		if a.Variadic {
			out[a.Name] = []string(nil)
			continue
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
	// DefaultEnv names an environment variable whose value, when it is
	// set and not empty, is used for an argument not given, before
	// Default (and it satisfies Required).
	DefaultEnv string
	// Positional arguments may also be given as bare words after the
	// task name, in the order they are declared (gotask fmt a.go).
	Positional bool
	// Variadic, on the last positional argument, takes every word that
	// is left: the value is a []string, each word checked against Type.
	Variadic bool
	// Choices, when set, are the only values the argument takes (as
	// written for its type: "1", not "01"). Nil allows any value.
	Choices []string
}

// Kind is the argument's type: Type, or String when Type is empty.
func (a *Arg) Kind() ArgType {
	if a.Type == "" {
		return String
	}
	return a.Type
}

// Parse turns a command-line string into the argument's Go value,
// checking it is one of the Choices if there are any.
func (a *Arg) Parse(s string) (any, error) {
	v, err := a.parseType(s)
	if err != nil || len(a.Choices) == 0 {
		return v, err
	}
	if !slices.Contains(a.Choices, formatValue(v)) {
		return nil, fmt.Errorf("%q is not one of the choices: %s", s, strings.Join(a.Choices, ", "))
	}
	return v, nil
}

// parseType is Parse without the choices.
func (a *Arg) parseType(s string) (any, error) {
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
		return a.parseType(v)
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
