package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotask/gotask/task"
)

func newCmdCompletion(streams *Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script (task names and task flags)",
		Long: `Print a completion script for your shell. For example:

  bash:  source <(gotask completion bash)
  zsh:   gotask completion zsh > "${fpath[1]}/_gotask"
  fish:  gotask completion fish | source`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(streams.Out, true)
			case "zsh":
				return root.GenZshCompletion(streams.Out)
			case "fish":
				return root.GenFishCompletion(streams.Out, true)
			}
			return &UsageError{Msg: fmt.Sprintf("no completion for shell %q: use bash, zsh or fish", args[0])}
		},
	}
}

// completeTasks completes task names, and after a task name its flags.
func completeTasks(opts *RootOptions, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	reg, err := loadRegistry(opts)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if strings.HasPrefix(toComplete, "-") {
		for i := len(args) - 1; i >= 0; i-- {
			if t, ok := reg.Lookup(args[i]); ok {
				return taskFlagNames(t, args[i+1:], toComplete), cobra.ShellCompDirectiveNoFileComp
			}
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, t := range reg.Tasks() {
		if !t.Hidden && strings.HasPrefix(t.Name, toComplete) {
			help, _, _ := strings.Cut(t.Help, "\n")
			names = append(names, t.Name+"\t"+help)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// taskFlagNames completes t's flags that start with prefix, leaving out
// those already given (each argument takes one value).
func taskFlagNames(t *task.Task, given []string, prefix string) []string {
	var out []string
	for _, a := range t.Args {
		if f := "--" + a.Name; strings.HasPrefix(f, prefix) && !flagGiven(a, given) {
			out = append(out, f+"\t"+a.Help)
		}
	}
	return out
}

func flagGiven(a task.Arg, given []string) bool {
	for _, g := range given {
		name, _, _ := strings.Cut(g, "=")
		if name == "--"+a.Name || a.Short != "" && name == "-"+a.Short {
			return true
		}
	}
	return false
}
