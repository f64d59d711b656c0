package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/task"
)

// listTasks prints the visible tasks as a two-column table, or as JSON.
func listTasks(s *Streams, reg *task.Registry, asJSON bool) error {
	var visible []*task.Task
	for _, t := range reg.Tasks() {
		if !t.Hidden {
			visible = append(visible, t)
		}
	}
	if asJSON {
		return listJSON(s, reg, visible)
	}
	if len(visible) == 0 && len(reg.Services()) == 0 {
		fmt.Fprintln(s.Out, "No tasks. Add one to tasks.toml:\n\n  [tasks.hello]\n  run = \"echo hello\"")
		return nil
	}
	names := make([]string, len(visible))
	width := 0
	for i, t := range visible {
		names[i] = t.Name
		if len(t.Aliases) > 0 {
			names[i] += " (" + strings.Join(t.Aliases, ", ") + ")"
		}
		width = max(width, len(names[i]))
	}
	var b strings.Builder
	switch {
	case len(visible) == 0:
	case reg.File != "":
		fmt.Fprintf(&b, "Tasks in %s:\n", reg.File)
	default:
		b.WriteString("Tasks:\n")
	}
	// The top file's tasks first, then each included file's under its
	// namespace, in the order of the namespaces' names.
	files := map[string]string{}
	for _, inc := range reg.Includes {
		files[inc.Namespace] = inc.File
	}
	order := make([]int, len(visible))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		return strings.Compare(visible[i].Namespace(), visible[j].Namespace())
	})
	ns := ""
	for _, i := range order {
		t := visible[i]
		if t.Namespace() != ns {
			ns = t.Namespace()
			fmt.Fprintf(&b, "\n%s (%s):\n", ns, files[ns])
		}
		help, _, _ := strings.Cut(t.Help, "\n")
		pad := strings.Repeat(" ", width-len(names[i]))
		name := s.paint(output.Cyan, names[i])
		if t.Name == reg.Default {
			help += " (default)"
		}
		fmt.Fprintf(&b, "  %s%s  %s\n", name, pad, help)
	}
	listServices(&b, s, reg, len(visible) > 0)
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}

// listServices adds the "Services:" section of gotask -l: each service
// with its replicas, its hosts and the first line of its help.
func listServices(b *strings.Builder, s *Streams, reg *task.Registry, afterTasks bool) {
	services := reg.Services()
	if len(services) == 0 {
		return
	}
	names := make([]string, len(services))
	width := 0
	for i, svc := range services {
		names[i] = svc.Name
		if svc.Replicas > 1 {
			names[i] += fmt.Sprintf(" (x%d)", svc.Replicas)
		}
		if len(svc.Hosts) > 0 {
			names[i] += " on " + strings.Join(svc.Hosts, ", ")
		}
		width = max(width, len(names[i]))
	}
	if afterTasks {
		b.WriteString("\n")
	}
	b.WriteString("Services (gotask up [SERVICE...]):\n")
	for i, svc := range services {
		help, _, _ := strings.Cut(svc.Help, "\n")
		pad := strings.Repeat(" ", width-len(names[i]))
		fmt.Fprintf(b, "  %s%s  %s\n", s.paint(output.Cyan, names[i]), pad, help)
	}
}

type jsonTask struct {
	Name string `json:"name"`
	// Namespace is the include a task came from ("web" for "web:build").
	Namespace string    `json:"namespace,omitempty"`
	Help      string    `json:"help"`
	Aliases   []string  `json:"aliases"`
	Args      []jsonArg `json:"args"`
	Deps      []string  `json:"deps"`
	Hosts     []string  `json:"hosts,omitempty"`
	Lock      string    `json:"lock,omitempty"` // the lock the task holds
	Default   bool      `json:"default,omitempty"`
	Go        bool      `json:"go,omitempty"` // written in Go
}

type jsonArg struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	Default  any    `json:"default,omitempty"`
	Help     string `json:"help,omitempty"`

	DefaultEnv string   `json:"default_env,omitempty"`
	Positional bool     `json:"positional,omitempty"` // also given as a bare word
	Variadic   bool     `json:"variadic,omitempty"`   // takes every word left
	Choices    []string `json:"choices,omitempty"`    // the only values it takes
}

func listJSON(s *Streams, reg *task.Registry, tasks []*task.Task) error {
	out := make([]jsonTask, 0, len(tasks))
	for _, t := range tasks {
		jt := jsonTask{Name: t.Name, Namespace: t.Namespace(), Help: t.Help, Aliases: nonNil(t.Aliases), Deps: nonNil(t.Deps),
			Hosts: t.Hosts, Lock: t.Lock, Default: t.Name == reg.Default, Go: t.Func != nil, Args: []jsonArg{}}
		for _, a := range t.Args {
			typ := string(a.Type)
			if typ == "" {
				typ = string(task.String)
			}
			jt.Args = append(jt.Args, jsonArg{Name: a.Name, Type: typ, Required: a.Required, Default: a.Default, Help: a.Help,
				DefaultEnv: a.DefaultEnv, Positional: a.Positional, Variadic: a.Variadic, Choices: a.Choices})
		}
		out = append(out, jt)
	}
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
