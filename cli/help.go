package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/gotask/gotask/task"
)

// showTaskHelp prints a task's usage, help, arguments and what it runs.
func showTaskHelp(ctx context.Context, opts *rootOptions, name string) error {
	reg, err := loadRegistry(opts)
	if err != nil {
		return err
	}
	if verb := serviceVerb(reg, []string{name}); verb != "" {
		return runServiceVerb(ctx, opts, reg, verb, []string{"--help"})
	}
	t, err := reg.Resolve(name)
	if err != nil {
		// Maybe a Go task, not built yet.
		return opts.cfg.pending.buildAndRun(ctx, opts.Streams, err)
	}
	s := opts.Streams
	var b strings.Builder
	usage := "gotask " + t.Name
	for _, a := range t.Args {
		flag := "--" + a.Name
		switch {
		case a.Positional:
			flag = a.Usage()
		case a.Type != task.Bool:
			flag += " " + strings.ToUpper(string(a.Kind()))
		case a.Default == true:
			flag = "--[no-]" + a.Name
		}
		if !a.Required {
			flag = "[" + flag + "]"
		}
		usage += " " + flag
	}
	fmt.Fprintf(&b, "Usage: %s\n", usage)
	if t.Help != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimRight(t.Help, "\n"))
	}
	if len(t.Args) > 0 {
		b.WriteString("\nArguments:\n")
		width := 0
		cols := make([]string, len(t.Args))
		for i, a := range t.Args {
			cols[i] = "--" + a.Name
			if a.Short != "" {
				cols[i] = "-" + a.Short + ", " + cols[i]
			}
			if a.Positional {
				cols[i] = a.Usage() + ", " + cols[i]
			}
			switch {
			case a.Type != task.Bool:
				cols[i] += " " + string(a.Kind())
			case a.Default == true:
				cols[i] += ", --no-" + a.Name
			}
			width = max(width, len(cols[i]))
		}
		for i, a := range t.Args {
			line := a.Help
			if len(a.Choices) > 0 {
				line += " (one of " + strings.Join(a.Choices, ", ") + ")"
			}
			switch {
			case a.Required && a.DefaultEnv != "":
				line += fmt.Sprintf(" (required, or $%s)", a.DefaultEnv)
			case a.Required:
				line += " (required)"
			case a.DefaultEnv != "" && a.Default != nil:
				line += fmt.Sprintf(" (default $%s, else %v)", a.DefaultEnv, a.Default)
			case a.DefaultEnv != "":
				line += fmt.Sprintf(" (default $%s)", a.DefaultEnv)
			case a.Default != nil:
				line += fmt.Sprintf(" (default %v)", a.Default)
			}
			fmt.Fprintf(&b, "  %-*s  %s\n", width, cols[i], strings.TrimSpace(line))
		}
	}
	if len(t.Aliases) > 0 {
		fmt.Fprintf(&b, "\nAliases: %s\n", strings.Join(t.Aliases, ", "))
	}
	if len(t.Deps) > 0 {
		fmt.Fprintf(&b, "Runs first: %s\n", strings.Join(t.Deps, ", "))
	}
	if len(t.Post) > 0 {
		fmt.Fprintf(&b, "Runs after: %s\n", strings.Join(t.Post, ", "))
	}
	if len(t.Hosts) > 0 {
		fmt.Fprintf(&b, "Hosts: %s\n", strings.Join(t.Hosts, ", "))
	}
	if t.Lock != "" {
		fmt.Fprintf(&b, "Lock: %s (a second gotask waits for it; --no-wait fails instead)\n", t.Lock)
	}
	if t.Func != nil {
		b.WriteString("\nWritten in Go.\n")
	} else if len(t.Steps) > 0 {
		b.WriteString("\nRuns:\n")
		for _, st := range t.Steps {
			desc := t.DescribeStep(&st)
			fmt.Fprintf(&b, "  %s\n", strings.ReplaceAll(desc, "\n", "\n  "))
		}
	}
	_, err = fmt.Fprint(s.Out, b.String())
	return err
}
