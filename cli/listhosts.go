package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gotask/gotask/task"
)

// listHosts prints the host groups of tasks.toml and every host they or
// [host_vars] name, with the vars each host gives its tasks, as text or
// JSON (gotask --list-hosts).
func listHosts(s *Streams, reg *task.Registry, asJSON bool) error {
	groups := slices.Sorted(maps.Keys(reg.Groups))
	hostSet := map[string]bool{}
	for _, g := range reg.Groups {
		for _, h := range g.Hosts {
			hostSet[h] = true
		}
	}
	for h := range reg.HostVars {
		hostSet[h] = true
	}
	hosts := slices.Sorted(maps.Keys(hostSet))
	groupsOf := func(host string) []string {
		out := []string{}
		for _, name := range groups {
			if slices.Contains(reg.Groups[name].Hosts, host) {
				out = append(out, name)
			}
		}
		return out
	}
	if asJSON {
		return listHostsJSON(s, reg, groups, hosts, groupsOf)
	}
	if len(groups) == 0 && len(hosts) == 0 {
		_, err := fmt.Fprintln(s.Out, "No hosts. Add a group to tasks.toml:\n\n  [hosts.web]\n  hosts = [\"web1\", \"web2\"]\n  vars = { role = \"app\" }")
		return err
	}
	var b strings.Builder
	b.WriteString("Host groups:\n")
	width := 0
	for _, name := range groups {
		width = max(width, len(name)+1)
	}
	listed := make([]string, len(groups))
	lwidth := 0
	for i, name := range groups {
		listed[i] = strings.Join(reg.Groups[name].Hosts, " ")
		lwidth = max(lwidth, len(listed[i]))
	}
	for i, name := range groups {
		g := reg.Groups[name]
		line := fmt.Sprintf("  %-*s  %-*s  %s", width, "@"+name, lwidth, listed[i], varList(g.Vars))
		var conn []string
		if g.User != "" {
			conn = append(conn, "user "+g.User)
		}
		if g.Port != 0 {
			conn = append(conn, "port "+strconv.Itoa(g.Port))
		}
		if len(conn) > 0 {
			line += "  (" + strings.Join(conn, ", ") + ")"
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	b.WriteString("\nHosts (vars: host_vars over the first group by name; both over [vars], under --var):\n")
	width, gwidth := 0, 0
	in := make([]string, len(hosts))
	for i, h := range hosts {
		width = max(width, len(h))
		names := groupsOf(h)
		for j := range names {
			names[j] = "@" + names[j]
		}
		in[i] = strings.Join(names, " ")
		if in[i] == "" {
			in[i] = "-"
		}
		gwidth = max(gwidth, len(in[i]))
	}
	for i, h := range hosts {
		line := fmt.Sprintf("  %-*s  %-*s  %s", width, h, gwidth, in[i], varList(reg.HostVarsOf(h)))
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}

// varList formats vars as name=value pairs in name order. A value that
// is not a plain word is quoted (with Go's escapes), so that no value
// can break the line or move the cursor.
func varList(vars map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		parts = append(parts, plainOrQuoted(k)+"="+plainOrQuoted(vars[k]))
	}
	return strings.Join(parts, " ")
}

func plainOrQuoted(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:@,+%", r)) {
			return strconv.Quote(s)
		}
	}
	return s
}

type jsonHostGroup struct {
	Name  string            `json:"name"`
	Hosts []string          `json:"hosts"`
	User  string            `json:"user,omitempty"`
	Port  int               `json:"port,omitempty"`
	Vars  map[string]string `json:"vars"`
}

type jsonHost struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
	// Vars are the vars the host gives its tasks over [vars].
	Vars map[string]string `json:"vars"`
}

func listHostsJSON(s *Streams, reg *task.Registry, groups, hosts []string, groupsOf func(string) []string) error {
	out := struct {
		Groups []jsonHostGroup `json:"groups"`
		Hosts  []jsonHost      `json:"hosts"`
	}{Groups: []jsonHostGroup{}, Hosts: []jsonHost{}}
	for _, name := range groups {
		g := reg.Groups[name]
		vars := g.Vars
		if vars == nil {
			vars = map[string]string{}
		}
		out.Groups = append(out.Groups, jsonHostGroup{Name: name, Hosts: nonNil(g.Hosts), User: g.User, Port: g.Port, Vars: vars})
	}
	for _, h := range hosts {
		vars := reg.HostVarsOf(h)
		if vars == nil {
			vars = map[string]string{}
		}
		out.Hosts = append(out.Hosts, jsonHost{Name: h, Groups: groupsOf(h), Vars: vars})
	}
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
