package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
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
				if err := root.GenBashCompletionV2(streams.Out, true); err != nil {
					return err
				}
				_, err := io.WriteString(streams.Out, bashWordsFallback)
				return err
			case "zsh":
				return root.GenZshCompletion(streams.Out)
			case "fish":
				return root.GenFishCompletion(streams.Out, true)
			}
			return &UsageError{Msg: fmt.Sprintf("no completion for shell %q: use bash, zsh or fish", args[0])}
		},
	}
}

// bashWordsFallback follows cobra's bash script. That script splits the
// command line with _get_comp_words_by_ref, from the bash-completion
// package, which a bare bash (a container, a fresh macOS) does not have:
// completion then printed "command not found" and offered nothing. This
// stand-in, defined only when the package is absent, does what the
// script asks of it: "-n =:" keeps words joined at '=' and ':', which
// bash splits them at, and it sets cur, prev, words and cword.
const bashWordsFallback = `
# gotask: a stand-in for bash-completion's _get_comp_words_by_ref, for a
# bash without that package.
if ! declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
_get_comp_words_by_ref()
{
    local __gotask_keep=""
    if [[ ${1-} == -n ]]; then __gotask_keep=$2; shift 2; fi
    local -a __gotask_ws=()
    local __gotask_i __gotask_w __gotask_prev="" __gotask_n=-1 __gotask_cw=0
    for (( __gotask_i=0; __gotask_i < ${#COMP_WORDS[@]}; __gotask_i++ )); do
        __gotask_w=${COMP_WORDS[__gotask_i]}
        if (( __gotask_i > 0 )) && [[ -n $__gotask_keep ]] &&
            { [[ -n $__gotask_w && $__gotask_keep == *"${__gotask_w:0:1}"* ]] ||
              [[ -n $__gotask_prev && $__gotask_keep == *"${__gotask_prev: -1}"* ]]; }; then
            __gotask_ws[__gotask_n]+=$__gotask_w
        else
            __gotask_ws[++__gotask_n]=$__gotask_w
        fi
        __gotask_prev=$__gotask_w
        (( __gotask_i == COMP_CWORD )) && __gotask_cw=$__gotask_n
    done
    printf -v "$1" '%s' "${__gotask_ws[__gotask_cw]}"
    printf -v "$2" '%s' "${__gotask_ws[__gotask_cw-1]-}"
    eval "$3"'=("${__gotask_ws[@]:0:__gotask_cw+1}")'
    printf -v "$4" '%s' "$__gotask_cw"
}
fi
`

// completionCalled reports whether args run the completion command, or
// complete its arguments, rather than tasks.
func completionCalled(args []string) bool {
	if len(args) > 0 && args[0] == cobra.ShellCompRequestCmd {
		args = args[1:]
	}
	return firstTask(args) == "completion"
}

// completeHosts completes -H: after the last comma, the @names of the
// host groups of tasks.toml.
func completeHosts(opts *rootOptions, toComplete string) ([]string, cobra.ShellCompDirective) {
	reg, err := loadRegistry(opts)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	before, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		before, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(reg.Groups)) {
		if g := "@" + name; strings.HasPrefix(g, last) {
			out = append(out, before+g)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeVars completes --var: the declared vars' names, each followed
// by '='.
func completeVars(opts *rootOptions, toComplete string) ([]string, cobra.ShellCompDirective) {
	reg, err := loadRegistry(opts)
	if err != nil || strings.Contains(toComplete, "=") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, names := range [][]string{slices.Collect(maps.Keys(reg.Vars)), slices.Collect(maps.Keys(reg.ComputedVars))} {
		for _, name := range names {
			if strings.HasPrefix(name, toComplete) {
				out = append(out, name+"=")
			}
		}
	}
	slices.Sort(out)
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeTasks completes task names, and after a task name its flags.
func completeTasks(opts *rootOptions, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	reg, err := loadRegistry(opts)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if strings.HasPrefix(toComplete, "-") {
		for i := len(args) - 1; i >= 0; i-- {
			if t, ok := reg.Lookup(args[i]); ok {
				if name, value, ok := strings.Cut(toComplete, "="); ok {
					// --env=p: the argument's choices.
					a := argByFlag(t, name)
					if a == nil {
						return nil, cobra.ShellCompDirectiveNoFileComp
					}
					return choicesFor(a, value, name+"="), cobra.ShellCompDirectiveNoFileComp
				}
				return taskFlagNames(t, args[i+1:], toComplete), cobra.ShellCompDirectiveNoFileComp
			}
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	if verb := serviceVerb(reg, args); verb != "" {
		// gotask up api wo<TAB>: the services.
		for _, svc := range reg.Services() {
			if strings.HasPrefix(svc.Name, toComplete) && !slices.Contains(args[1:], svc.Name) {
				help, _, _ := strings.Cut(svc.Help, "\n")
				names = append(names, svc.Name+"\t"+help)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	if len(args) == 0 && len(reg.Services()) > 0 {
		for _, verb := range task.ServiceVerbs {
			if strings.HasPrefix(verb, toComplete) {
				names = append(names, verb+"\tservices: gotask "+verb+" --help")
			}
		}
	}
	if a, only := nextValue(reg, args); a != nil {
		// The value of --env, or the next positional word: its choices.
		names = choicesFor(a, toComplete, "")
		if only {
			return names, cobra.ShellCompDirectiveNoFileComp
		}
	}
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

// nextValue finds the argument whose value the next word gives: the
// last word is a task's --flag that takes a value, or the task takes
// positional words and has a slot left. only says the word can be
// nothing else (a flag's value, or a variadic argument's word).
func nextValue(reg *task.Registry, args []string) (a *task.Arg, only bool) {
	last := -1
	for i := len(args) - 1; i >= 0; i-- {
		if _, ok := reg.Lookup(args[i]); ok {
			last = i
			break
		}
	}
	if last < 0 {
		return nil, false
	}
	t, _ := reg.Lookup(args[last])
	words := 0
	given := map[string]bool{}
	after := args[last+1:]
	for j := 0; j < len(after); j++ {
		w := after[j]
		if !strings.HasPrefix(w, "-") {
			words++
			continue
		}
		f := argByFlag(t, w)
		if f == nil || strings.Contains(w, "=") || f.Type == task.Bool {
			if f != nil {
				given[f.Name] = true
			}
			continue
		}
		given[f.Name] = true
		if j == len(after)-1 {
			return f, true // the flag's value comes next
		}
		j++
	}
	for i := range t.Args {
		p := &t.Args[i]
		if !p.Positional || given[p.Name] {
			continue
		}
		if p.Variadic {
			return p, true
		}
		if words == 0 {
			return p, false
		}
		words--
	}
	return nil, false
}

// argByFlag returns the argument that the flag (--name, -s, --name=v)
// gives, or nil.
func argByFlag(t *task.Task, flag string) *task.Arg {
	name, _, _ := strings.Cut(flag, "=")
	for i := range t.Args {
		a := &t.Args[i]
		if name == "--"+a.Name || a.Short != "" && name == "-"+a.Short {
			return a
		}
	}
	return nil
}

// choicesFor completes the choices of a that start with prefix, each
// written after before.
func choicesFor(a *task.Arg, prefix, before string) []string {
	var out []string
	for _, c := range a.Choices {
		if strings.HasPrefix(c, prefix) {
			out = append(out, before+c)
		}
	}
	return out
}
