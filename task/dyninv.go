package task

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// ResolveGroups runs the command of each named host group that has one
// (a dynamic inventory) and not yet run, and fills the group's Hosts and
// Vars from what it prints. The command runs with sh -c in its tasks
// file's directory, with env as its environment. It prints JSON: a list
// of hosts, ["h1", "h2"], or {"hosts": [...], "vars": {...}}. Its output
// is data: each host must pass CheckHost, each var is a value (a string,
// number or boolean) and must be one the group's vars table declares, so
// that tasks using it are checked at load like any var. Names of groups
// without a command, or unknown, are passed over.
func (r *Registry) ResolveGroups(ctx context.Context, env []string, names []string) error {
	for _, name := range names {
		g := r.Groups[name]
		if g == nil || g.Command == "" || g.loaded {
			continue
		}
		if err := g.resolve(ctx, env); err != nil {
			return fmt.Errorf("host group %q: command %q: %w", name, g.Command, err)
		}
		g.loaded = true
	}
	return nil
}

// resolve runs g's command and reads its output into g.
func (g *HostGroup) resolve(ctx context.Context, env []string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", g.Command)
	cmd.Dir, cmd.Env = g.dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%v; its stderr: %s", ee, quoteOutput(stderr.String()))
		}
		return err
	}
	var hosts []string
	var vars map[string]any
	out := bytes.TrimSpace(stdout.Bytes())
	if bytes.HasPrefix(out, []byte("[")) {
		if err := json.Unmarshal(out, &hosts); err != nil {
			return fmt.Errorf("its output is not a JSON list of host strings: %w", err)
		}
	} else {
		var doc struct {
			Hosts []string       `json:"hosts"`
			Vars  map[string]any `json:"vars"`
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			return fmt.Errorf("its output is neither a JSON list of hosts nor {\"hosts\": [...], \"vars\": {...}}: %w", err)
		}
		hosts, vars = doc.Hosts, doc.Vars
	}
	for _, h := range hosts {
		if err := CheckHost(h); err != nil {
			return fmt.Errorf("it printed a bad host: %w", err)
		}
	}
	merged := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if _, ok := g.Vars[k]; !ok {
			return fmt.Errorf("it printed var %q, which the group's vars table does not declare; add a default, like vars = { %s = \"\" }", k, k)
		}
		switch v := vars[k].(type) {
		case string:
			merged[k] = v
		case float64:
			merged[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			merged[k] = strconv.FormatBool(v)
		default:
			return fmt.Errorf("var %q must be a string, number or boolean", k)
		}
	}
	for k, v := range merged {
		g.Vars[k] = v
	}
	g.Hosts = hosts
	return nil
}

// quoteOutput returns a command's stderr for an error message: trimmed,
// quoted, and "(empty)" when there was none.
func quoteOutput(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(empty)"
	}
	return strconv.Quote(s)
}

// GroupsFor returns the names of the host groups a run needs: those of
// override (the CLI's -H) when it names any host, else those the called
// tasks, their deps and the tasks their steps call run on.
func (r *Registry) GroupsFor(calls []Call, override []string) []string {
	seen := map[string]bool{}
	var groups []string
	addHosts := func(list []string) {
		for _, h := range list {
			if name, ok := strings.CutPrefix(h, "@"); ok && !seen["@"+name] {
				seen["@"+name] = true
				groups = append(groups, name)
			}
		}
	}
	if len(override) > 0 {
		addHosts(override)
		return groups
	}
	var walk func(name string)
	walk = func(name string) {
		t, ok := r.Lookup(name)
		if !ok || seen[t.Name] {
			return
		}
		seen[t.Name] = true
		addHosts(t.Hosts)
		for _, d := range t.Deps {
			walk(d)
		}
		for _, s := range t.Steps {
			if s.Task != "" {
				walk(s.Task)
			}
		}
	}
	for _, c := range calls {
		walk(c.Name)
	}
	return groups
}

// AllGroups returns the names of every host group, sorted.
func (r *Registry) AllGroups() []string {
	return slices.Sorted(maps.Keys(r.Groups))
}
