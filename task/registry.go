package task

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gotask/gotask/internal/lock"
)

// Registry holds every known task, from tasks.toml and from Go code, and
// resolves names and aliases. The zero value is not usable; call
// NewRegistry.
type Registry struct {
	tasks   map[string]*Task
	aliases map[string]string // alias -> task name

	// Vars are substituted into commands as {{.name}}, like arguments.
	Vars map[string]string
	// ComputedVars are vars whose value is the output of a shell command
	// (tasks.toml's name = { sh = "..." }), keyed by name: the command
	// runs in Dir, at most once per run, and only when a task of the run
	// uses the var. Its output, without the trailing newline, is the
	// value.
	ComputedVars map[string]string
	// Env holds environment variables for every task's commands
	// (tasks.toml's top-level [env]); a task's env and dotenv files
	// override them. Values may use {{.name}}.
	Env map[string]string
	// Dotenv lists dotenv files, relative to Dir, read when a task runs
	// and applied to every task's commands over Env. A missing file is
	// skipped unless its entry starts with '!'.
	Dotenv []string
	// Default is the task a bare `gotask` runs; empty lists the tasks.
	Default string
	// Groups are the named host groups of tasks.toml's [hosts].
	Groups map[string]*HostGroup
	// HostVars are tasks.toml's [host_vars.HOST] tables: vars for one
	// host (as its tasks and -H write it), over its groups' vars and
	// Vars. A task running on no host sees none of them.
	HostVars map[string]map[string]string
	// Dir is the directory of tasks.toml: the default working directory
	// of commands and the root of relative paths. Empty means the
	// current directory.
	Dir string
	// File is the tasks.toml the registry was loaded from, if any.
	File string
	// Includes are the files tasks.toml's [includes] added, in the
	// order they were read.
	Includes []Include
	// SudoPasswordCmd is tasks.toml's sudo_password_cmd.
	SudoPasswordCmd string
	// Partial says that tasks defined elsewhere are missing: the Go
	// tasks, when there is no toolchain to build them. Validate then
	// accepts deps, post tasks, task steps and a default that name no
	// known task, so that the others still run; running such a task
	// fails as an unknown task.
	Partial bool

	services   map[string]*Service // tasks.toml's [services], by name
	cmds       templates           // shell commands with placeholders, analysed once
	groupFiles map[string]string   // host group -> the file that defined it
}

// HostGroup is a named set of hosts from tasks.toml's [hosts] table.
type HostGroup struct {
	Hosts []string
	// User and Port apply to hosts that do not name their own.
	User string
	Port int
	// SudoPasswordEnv names the environment variable holding the sudo
	// password for these hosts.
	SudoPasswordEnv string
	// Vars are vars for these hosts, over the registry's Vars and under
	// HostVars. Of several groups listing a host, the first by name
	// that sets a var gives it.
	Vars map[string]string
	// Command, when set, prints the group's hosts as JSON (a dynamic
	// inventory): see Registry.ResolveGroups. Hosts is empty until then.
	Command string
	dir     string // where Command runs: its tasks file's directory
	loaded  bool   // Command has run and filled Hosts
}

// groupsOf returns every host group that lists host, in the order of
// their names: the order their sudo_password_env variables are tried in.
func (r *Registry) groupsOf(host string) []*HostGroup {
	if host == "" {
		return nil
	}
	var found []*HostGroup
	for _, name := range slices.Sorted(maps.Keys(r.Groups)) {
		if g := r.Groups[name]; slices.Contains(g.Hosts, host) {
			found = append(found, g)
		}
	}
	return found
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		tasks:   map[string]*Task{},
		aliases: map[string]string{},
		Vars:    map[string]string{},
		Groups:  map[string]*HostGroup{},

		HostVars: map[string]map[string]string{},

		ComputedVars: map[string]string{},
	}
}

// Add checks t and adds it. It fails for an invalid task or a name or
// alias that is already taken. Dependencies are checked by Validate, once
// every task is in.
func (r *Registry) Add(t Task) error { return r.add(&t) }

// add is Add for a task the registry may keep as it is.
func (r *Registry) add(t *Task) error {
	if err := t.check(); err != nil {
		return err
	}
	if other := r.owner(t.Name); other != "" {
		if other == t.Name {
			msg := fmt.Sprintf("task %q is defined twice", t.Name)
			if f := r.tasks[other].file; f != "" && f != t.file {
				msg += " (also in " + f + ")"
			}
			return t.errorAt(t.pos, msg)
		}
		return t.errorAt(t.pos, fmt.Sprintf("name %q of task %q is already taken by task %q", t.Name, t.Name, other))
	}
	for i, name := range t.Aliases {
		if other := r.owner(name); other != "" {
			return t.errorAt(t.pos.child("aliases", i), fmt.Sprintf("name %q of task %q is already taken by task %q", name, t.Name, other))
		}
	}
	r.tasks[t.Name] = t
	for _, a := range t.Aliases {
		r.aliases[a] = t.Name
	}
	return nil
}

// MustAdd is Add for tasks known to be valid; it panics on error.
func (r *Registry) MustAdd(t Task) {
	if err := r.Add(t); err != nil {
		panic(err)
	}
}

// owner returns the task that name (a task name or alias) refers to.
func (r *Registry) owner(name string) string {
	if _, ok := r.tasks[name]; ok {
		return name
	}
	return r.aliases[name]
}

// Lookup finds a task by name or alias.
func (r *Registry) Lookup(name string) (*Task, bool) {
	t, ok := r.tasks[r.owner(name)]
	return t, ok
}

// Tasks returns every task, hidden ones included, sorted by name.
func (r *Registry) Tasks() []*Task {
	list := make([]*Task, 0, len(r.tasks))
	for _, t := range r.tasks {
		list = append(list, t)
	}
	slices.SortFunc(list, func(a, b *Task) int { return strings.Compare(a.Name, b.Name) })
	return list
}

// Resolve is Lookup with an *UnknownTaskError, suggesting the closest
// visible name, when nothing matches.
func (r *Registry) Resolve(name string) (*Task, error) {
	if t, ok := r.Lookup(name); ok {
		return t, nil
	}
	var names []string
	for _, t := range r.tasks {
		if !t.Hidden {
			names = append(names, t.Name)
			names = append(names, t.Aliases...)
		}
	}
	return nil, &UnknownTaskError{Name: name, Suggestion: closest(name, names)}
}

// Validate checks what Add cannot: that every dependency, post task and
// called task exists, that there is no dependency cycle, and that the
// default task exists. It reports every problem it finds.
func (r *Registry) Validate() error {
	var errs []error
	for _, t := range r.Tasks() {
		check := func(kind, name string, p pos) {
			if _, ok := r.Lookup(name); !ok && !r.Partial {
				msg := fmt.Sprintf("task %q: unknown %s %q", t.Name, kind, name)
				if s := closest(name, r.names()); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				errs = append(errs, t.errorAt(p, msg))
			}
		}
		for i, d := range t.Deps {
			check("dependency", d, t.pos.child("deps", i))
		}
		for i, d := range t.Post {
			check("post task", d, t.pos.child("post", i))
		}
		for i, s := range t.Steps {
			if s.Task != "" {
				check("task", s.Task, t.pos.child("steps", i))
			}
		}
		for i, h := range t.Hosts {
			if name, group := strings.CutPrefix(h, "@"); group && r.Groups[name] == nil {
				errs = append(errs, t.errorAt(t.pos.child("hosts", i),
					fmt.Sprintf("task %q: unknown host group %q; define it under [hosts]", t.Name, name)))
			}
		}
		errs = append(errs, r.checkTunnels(t)...)
	}
	errs = append(errs, r.checkServices()...)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := r.checkCycles(); err != nil {
		return err
	}
	if r.Default != "" && !r.Partial {
		if _, ok := r.Lookup(r.Default); !ok {
			return (&Task{file: r.File}).errorAt(pos{path: []string{"default"}},
				fmt.Sprintf("default task %q does not exist", r.Default))
		}
	}
	return nil
}

// checkCycles finds a cycle through deps, post tasks and task steps.
func (r *Registry) checkCycles() error {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(t *Task) error
	visit = func(t *Task) error {
		switch state[t.Name] {
		case active:
			i := slices.Index(stack, t.Name)
			cycle := append(slices.Clone(stack[i:]), t.Name)
			return t.errorAt(t.pos.child("deps", -1),
				fmt.Sprintf("dependency cycle: %s", strings.Join(cycle, " -> ")))
		case done:
			return nil
		}
		state[t.Name] = active
		stack = append(stack, t.Name)
		for _, next := range t.calls() {
			if n, ok := r.Lookup(next); ok {
				if err := visit(n); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[t.Name] = done
		return nil
	}
	for _, t := range r.Tasks() {
		if err := visit(t); err != nil {
			return err
		}
	}
	return nil
}

// calls lists every task t reaches directly.
func (t *Task) calls() []string {
	out := slices.Concat(t.Deps, t.Post)
	for _, s := range t.Steps {
		if s.Task != "" {
			out = append(out, s.Task)
		}
	}
	return out
}

func (r *Registry) names() []string {
	var names []string
	for n := range r.tasks {
		names = append(names, n)
	}
	for a := range r.aliases {
		names = append(names, a)
	}
	return names
}

// check validates a task on its own.
func (t *Task) check() error {
	if !validName(t.Name) {
		return t.errorAt(t.pos, fmt.Sprintf("invalid task name %q: use letters, digits, '-', '_', ':' or '.', starting with a letter", t.Name))
	}
	for i, a := range t.Aliases {
		if !validName(a) {
			return t.errorAt(t.pos.child("aliases", i), fmt.Sprintf("task %q: invalid alias %q", t.Name, a))
		}
	}
	if reservedName(t.Name) {
		return t.errorAt(t.pos, fmt.Sprintf("task name %q is taken by gotask's own %q command; rename the task (an alias may keep a short name)", t.Name, t.Name))
	}
	for i, a := range t.Aliases {
		if reservedName(a) {
			return t.errorAt(t.pos.child("aliases", i), fmt.Sprintf("task %q: alias %q is taken by gotask's own %q command", t.Name, a, a))
		}
	}
	if err := checkEnv(t, t.pos.child("env", -1), t.Env); err != nil {
		return err
	}
	if t.Lock != "" && !lock.ValidName(t.Lock) {
		return t.errorAt(t.pos.child("lock", -1), fmt.Sprintf("task %q: lock name %q: use letters, digits, '-', '_', '.' and ':', starting with a letter or digit", t.Name, t.Lock))
	}
	if err := t.checkArgs(); err != nil {
		return err
	}
	for i := range t.Steps {
		s := &t.Steps[i]
		at := s.pos
		if at.path == nil {
			at = t.pos.child("steps", i)
		}
		if err := checkEnv(t, at.child("env", -1), s.Env); err != nil {
			return err
		}
		if s.Mode&^fs.ModePerm != 0 {
			return t.errorAt(at.child("mode", -1), fmt.Sprintf("task %q: step %d: mode %O has bits beyond the permission bits (0777), which put and get do not carry", t.Name, i+1, uint32(s.Mode)))
		}
	}
	for i, h := range t.Hosts {
		if _, group := strings.CutPrefix(h, "@"); group {
			continue // Validate checks that the group exists
		}
		if err := CheckHost(h); err != nil {
			return t.errorAt(t.pos.child("hosts", i), fmt.Sprintf("task %q: %v", t.Name, err))
		}
	}
	if t.Func != nil && len(t.Steps) > 0 {
		return t.errorAt(t.pos, fmt.Sprintf("task %q has both Go code and commands; give it one or the other", t.Name))
	}
	seen := map[string]bool{}
	for i := range t.Args {
		a := &t.Args[i]
		at := t.pos.child("args", i)
		switch {
		case !validName(a.Name):
			return t.errorAt(at, fmt.Sprintf("task %q: invalid argument name %q", t.Name, a.Name))
		case seen[a.Name] || a.Short != "" && seen["-"+a.Short]:
			return t.errorAt(at, fmt.Sprintf("task %q: argument %q is declared twice", t.Name, a.Name))
		case a.Short != "" && len(a.Short) != 1:
			return t.errorAt(at, fmt.Sprintf("task %q: argument %q: short must be one letter, not %q", t.Name, a.Name, a.Short))
		case a.Name == "help" || a.Short == "h":
			return t.errorAt(at, fmt.Sprintf("task %q: argument %q: the name help and the short h are reserved for help", t.Name, a.Name))
		}
		seen[a.Name] = true
		if a.Short != "" {
			seen["-"+a.Short] = true
		}
		switch a.Kind() {
		case String, Int, Bool, Duration:
		default:
			return t.errorAt(at, fmt.Sprintf("task %q: argument %q has unknown type %q; use string, int, bool or duration", t.Name, a.Name, a.Type))
		}
		if a.DefaultEnv != "" && !validEnvName(a.DefaultEnv) {
			return t.errorAt(at, fmt.Sprintf("task %q: argument %q: default_env %q is not a variable name: use letters, digits and '_', not starting with a digit", t.Name, a.Name, a.DefaultEnv))
		}
		if _, err := a.defaultValue(); err != nil {
			return t.errorAt(at, fmt.Sprintf("task %q: argument %q: %v", t.Name, a.Name, err))
		}
	}
	if t.Retries < 0 || t.Serial < 0 {
		return t.errorAt(t.pos, fmt.Sprintf("task %q: retries and serial must not be negative", t.Name))
	}
	for i, b := range t.Batches {
		var v any = b
		if n, err := strconv.ParseInt(b, 10, 64); err == nil {
			v = n
		}
		if _, ok := batchSize(v); !ok {
			return t.errorAt(t.pos, fmt.Sprintf("task %q: batch %d is %q: use a number of hosts (at least 1) or a percentage from \"1%%\" to \"100%%\"", t.Name, i+1, b))
		}
	}
	if p := t.MaxFailPercent; p != nil && !(*p >= 0 && *p <= 100) {
		return t.errorAt(t.pos, fmt.Sprintf("task %q: max_fail_percent must be a number from 0 to 100", t.Name))
	}
	return nil
}

// reservedName reports whether name is one of gotask's own commands,
// which a task of that name could never be run past.
func reservedName(name string) bool {
	return name == "help" || name == "completion"
}

// checkEnv checks that every key of env is a variable name a shell can
// use: a key such as "A B" or "K=V" would otherwise set a variable no
// command can read, or a different one than written.
func checkEnv(t *Task, at pos, env map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !validEnvName(k) {
			return t.errorAt(at.child(k, -1), fmt.Sprintf("task %q: env key %q is not a variable name: use letters, digits and '_', not starting with a digit", t.Name, k))
		}
	}
	return nil
}

// ValidEnvName reports whether s is a portable environment variable
// name: letters, digits and '_', not starting with a digit.
func ValidEnvName(s string) bool { return validEnvName(s) }

// validEnvName reports whether s is a portable environment variable name.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && '0' <= r && r <= '9':
		default:
			return false
		}
	}
	return true
}

// CheckHost reports whether s can name an SSH host: [user@]host[:port],
// with host a name, an IPv4 address, or an IPv6 address in brackets when
// a port follows. It catches what could never connect (spaces, control
// characters, an empty part, a port out of range) and what could be
// taken for an option (a leading '-'), before anything runs.
func CheckHost(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("host %q %s; write [user@]host[:port]", s, why)
	}
	if s == "" {
		return errors.New("empty host name; write [user@]host[:port]")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("\"'`$;|&<>(){}*?!,", r) {
			return bad(fmt.Sprintf("contains %q", r))
		}
	}
	user, host := "", s
	if i := strings.LastIndex(s, "@"); i >= 0 {
		user, host = s[:i], s[i+1:]
		if user == "" {
			return bad("has an empty user before '@'")
		}
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(host, "-") {
		return bad("starts with '-'")
	}
	port := ""
	switch {
	case strings.HasPrefix(host, "["):
		end := strings.Index(host, "]")
		if end < 0 {
			return bad("has no closing ']'")
		}
		rest := host[end+1:]
		if rest != "" {
			p, ok := strings.CutPrefix(rest, ":")
			if !ok {
				return bad("has text after ']'")
			}
			port = p
			if port == "" {
				return bad("has an empty port")
			}
		}
		host = host[1:end]
	case strings.Count(host, ":") == 1:
		host, port, _ = strings.Cut(host, ":")
		if port == "" {
			return bad("has an empty port")
		}
	}
	if host == "" {
		return bad("has no host name")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad(fmt.Sprintf("has port %q, not a number from 1 to 65535", port))
		}
	}
	return nil
}

// Closest returns the candidate nearest to name by edit distance, if it
// is near enough to be a plausible typo, or "".
func Closest(name string, candidates []string) string { return closest(name, candidates) }

// closest returns the candidate nearest to name by edit distance, if it
// is near enough to be a plausible typo.
func closest(name string, candidates []string) string {
	best, bestDist := "", len(name)/2+2
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	// Replacing every letter is not a typo: "x" is not a misspelt "b".
	if bestDist > max(2, len(name)/3) || bestDist >= len(name) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkArgs checks the arguments' declarations: ARGS is taken, a
// positional argument is not a bool, and only the last positional
// argument may be variadic (it takes every word left).
func (t *Task) checkArgs() error {
	variadic := ""
	for i, a := range t.Args {
		at := t.pos.child("args", i)
		fail := func(format string, args ...any) error {
			return t.errorAt(at, fmt.Sprintf("task %q: argument %q: ", t.Name, a.Name)+fmt.Sprintf(format, args...))
		}
		switch {
		case a.Name == PassthroughName || a.Short == PassthroughName:
			return t.errorAt(at, fmt.Sprintf("task %q: argument name %q is taken by the words after `--` ({{.%s}}); rename the argument", t.Name, PassthroughName, PassthroughName))
		case a.Variadic && !a.Positional:
			return fail("variadic needs positional = true")
		case a.Positional && a.Kind() == Bool:
			return fail("a bool cannot be positional; give it as --%s", a.Name)
		case a.Variadic && a.Default != nil:
			return fail("a variadic argument has no default (it is empty when no word is given)")
		case a.Positional && variadic != "":
			return fail("comes after the variadic argument %q, which takes every word left; make %q the last positional argument", variadic, variadic)
		}
		if a.Variadic {
			variadic = a.Name
		}
		for j, c := range a.Choices {
			if _, err := a.parseType(c); err != nil {
				return t.errorAt(at.child("choices", j), fmt.Sprintf("task %q: argument %q: choice %v", t.Name, a.Name, err))
			}
		}
		if len(a.Choices) > 0 && !a.Required && !a.Variadic {
			if v, err := a.defaultValue(); err == nil && !slices.Contains(a.Choices, formatValue(v)) {
				return fail("default %q is not one of the choices (%s); add it or make the argument required", formatValue(v), strings.Join(a.Choices, ", "))
			}
		}
	}
	return nil
}

// SetVar sets a var for the run, as gotask --var name=value does: over
// every other layer, so it also replaces the var's computed command and
// its values in host groups and host_vars.
func (r *Registry) SetVar(name, value string) {
	delete(r.ComputedVars, name)
	for _, vars := range r.HostVars {
		delete(vars, name)
	}
	for _, g := range r.Groups {
		delete(g.Vars, name)
	}
	r.Vars[name] = value
}

// hostVar returns the value host gives the var name: its host_vars, else
// the vars of the first group by name that lists it and sets the var.
func (r *Registry) hostVar(host, name string) (string, bool) {
	if host == "" {
		return "", false
	}
	if v, ok := r.HostVars[host][name]; ok {
		return v, true
	}
	for _, g := range r.groupsOf(host) {
		if v, ok := g.Vars[name]; ok {
			return v, true
		}
	}
	return "", false
}

// IsHostVar says whether some host_vars table or host group sets name.
func (r *Registry) IsHostVar(name string) bool {
	for _, vars := range r.HostVars {
		if _, ok := vars[name]; ok {
			return true
		}
	}
	for _, g := range r.Groups {
		if _, ok := g.Vars[name]; ok {
			return true
		}
	}
	return false
}

// HostVarsOf returns the vars host gives its tasks over Vars: its
// host_vars over those of the groups listing it (the first group by name
// that sets a var gives it). Nil when there are none.
func (r *Registry) HostVarsOf(host string) map[string]string {
	var out map[string]string
	groups := r.groupsOf(host)
	for i := len(groups) - 1; i >= 0; i-- {
		for k, v := range groups[i].Vars {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	for k, v := range r.HostVars[host] {
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}

// AddInventory reads an inventory file (gotask --inventory FILE): a
// tasks.toml holding only [hosts] and [host_vars]. Its groups and host
// vars join r's; call it before Load, so that tasks.toml's tasks may use
// its vars and a group defined in both is reported. Errors name the
// file, line and column.
func (r *Registry) AddInventory(path string) error {
	inv := NewRegistry()
	if err := inv.Load(path); err != nil {
		return err
	}
	if len(inv.tasks) > 0 || len(inv.Vars)+len(inv.ComputedVars) > 0 || inv.Env != nil || inv.Dotenv != nil ||
		inv.Default != "" || inv.SudoPasswordCmd != "" || len(inv.Includes) > 0 {
		return fmt.Errorf("an inventory holds only [hosts] and [host_vars]; move its tasks, vars and other keys to %s", FileName)
	}
	if r.groupFiles == nil {
		r.groupFiles = map[string]string{}
	}
	for name, g := range inv.Groups {
		if old, ok := r.Groups[name]; ok && !sameGroup(old, g) {
			return fmt.Errorf("host group %q is defined in %s and in %s; give one of them another name", name, r.groupFiles[name], path)
		}
		r.Groups[name] = g
		r.groupFiles[name] = path
	}
	for host, vars := range inv.HostVars {
		if r.HostVars[host] == nil {
			r.HostVars[host] = map[string]string{}
		}
		maps.Copy(r.HostVars[host], vars)
	}
	return nil
}
