package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gotask/gotask/task"
)

// firstTask returns the first argument that is not a flag or a flag's
// value, skipping the one global flag that takes a value.
func firstTask(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-f" || a == "--file":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}

// splitCalls splits the arguments into tasks, each with its own flags,
// Invoke style: gotask build --os linux test --short. Bare words after a
// task name fill its positional arguments, up to a word that names a
// task; a variadic argument takes every word left. The words after `--`
// go to the task just before it, as its {{.ARGS}}. A flag of global
// that the task has no flag of that name for is taken as gotask's own
// (gotask build -n), except those that must come first.
func splitCalls(reg *task.Registry, args []string, global *pflag.FlagSet) ([]task.Call, error) {
	var calls []task.Call
	for len(args) > 0 {
		name := args[0]
		if strings.HasPrefix(name, "-") {
			return nil, &UsageError{Msg: fmt.Sprintf("unexpected flag %s: gotask's own flags go before the first task name, a task's flags after it", name)}
		}
		t, err := reg.Resolve(name)
		if err != nil {
			return nil, err
		}
		fs, values, help := taskFlags(t)
		addGlobalFlags(fs, global)
		call := task.Call{Name: t.Name, Args: map[string]string{}}
		slots := positionalSlots(t)
		args = args[1:]
		for {
			if err := fs.Parse(args); err != nil {
				// An unknown --flag: let the task say so, with "did you mean".
				var unknown *pflag.NotExistError
				if errors.As(err, &unknown) && unknown.GetSpecifiedShortnames() == "" {
					if _, err := t.ParseArgs(map[string]string{unknown.GetSpecifiedName(): ""}); err != nil {
						return nil, err
					}
				}
				return nil, &task.ArgError{Task: t.Name, Err: err}
			}
			args = fs.Args()
			if n := fs.ArgsLenAtDash(); n >= 0 {
				// `--` ends the command line: the words after it are this
				// task's {{.ARGS}}, whatever they look like.
				call.Passthrough, args = args[n:], args[:n]
				break
			}
			// Bare words fill the task's positional arguments: a word
			// that names a task ends them, except for a variadic
			// argument, which takes every word up to -- or the end.
			if len(args) == 0 || len(call.Positional) >= slots.max && !slots.variadic {
				break
			}
			if !(slots.variadic && len(call.Positional) >= slots.max-1) {
				if _, isTask := reg.Lookup(args[0]); isTask {
					break
				}
			}
			call.Positional = append(call.Positional, args[0])
			args = args[1:]
		}
		fs.Visit(func(f *pflag.Flag) {
			if value, ok := values[f.Name]; ok {
				call.Args[strings.TrimPrefix(f.Name, "no-")] = value()
			}
		})
		if *help {
			call.Args = map[string]string{helpMarker: ""}
		}
		calls = append(calls, call)
	}
	return calls, nil
}

// slots is how many bare words a task takes after its name.
type slots struct {
	max      int  // its positional arguments
	variadic bool // the last takes every word left
}

func positionalSlots(t *task.Task) slots {
	var s slots
	for _, a := range t.Args {
		if a.Positional {
			s.max++
			s.variadic = s.variadic || a.Variadic
		}
	}
	return s
}

func hasArg(t *task.Task, name string) bool {
	for _, a := range t.Args {
		if a.Name == name {
			return true
		}
	}
	return false
}

// mustComeFirst are global flags that decide how the arguments are read
// or that end the run before any task: after a task name they would come
// too late.
var mustComeFirst = map[string]bool{"file": true, "global": true, "help": true, "version": true, "init": true}

// addGlobalFlags adds to a task's flags each flag of global whose name the
// task does not use, dropping a shorthand the task uses. The flags share
// their values with global, so parsing sets gotask's options.
func addGlobalFlags(fs, global *pflag.FlagSet) {
	if global == nil {
		return
	}
	global.VisitAll(func(g *pflag.Flag) {
		if mustComeFirst[g.Name] || fs.Lookup(g.Name) != nil {
			return
		}
		f := *g
		if f.Shorthand != "" && fs.ShorthandLookup(f.Shorthand) != nil {
			f.Shorthand = ""
		}
		fs.AddFlag(&f)
	})
}

// helpMarker in a Call's Args means "show this task's help".
const helpMarker = "\x00help"

func helpCall(calls []task.Call) string {
	for _, c := range calls {
		if _, ok := c.Args[helpMarker]; ok {
			return c.Name
		}
	}
	return ""
}

// taskFlags builds the flag set of a task's arguments. Every value is
// taken as a string and typed by task.ParseArgs, which names the task and
// argument in its errors.
func taskFlags(t *task.Task) (*pflag.FlagSet, map[string]func() string, *bool) {
	fs := pflag.NewFlagSet(t.Name, pflag.ContinueOnError)
	fs.SetInterspersed(false) // the next task name ends this task's flags
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	values := map[string]func() string{}
	for _, a := range t.Args {
		if a.Type == task.Bool {
			v := fs.BoolP(a.Name, a.Short, false, a.Help)
			values[a.Name] = func() string { return fmt.Sprint(*v) }
			no := "no-" + a.Name
			if !hasArg(t, no) {
				// --no-x turns off a bool whose default is true.
				off := fs.Bool(no, false, "")
				fs.Lookup(no).Hidden = true
				values[no] = func() string { return fmt.Sprint(!*off) }
			}
			continue
		}
		v := fs.StringP(a.Name, a.Short, "", a.Help)
		values[a.Name] = func() string { return *v }
	}
	help := fs.BoolP("help", "h", false, "show this task's help")
	return fs, values, help
}
