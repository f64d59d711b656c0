package task

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// converter turns the raw document into tasks, collecting every error.
type converter struct {
	file string
	errs []*LoadError

	ns     string            // "web:" for an included file's tasks; "" at the top
	base   string            // where an included file's tasks run; "" for Registry.Dir
	groups map[string]string // host group -> the file that defined it
}

func (c *converter) fail(p pos, format string, args ...any) {
	c.errs = append(c.errs, &LoadError{File: c.file, Msg: fmt.Sprintf(format, args...), path: p.path})
}

func (c *converter) file2registry(doc *rawFile, r *Registry) {
	top := pos{}
	if c.ns == "" {
		// An included file's default and sudo_password_cmd serve it
		// when it is run on its own; in a tree the top file's rule.
		r.Default = doc.Default
		r.SudoPasswordCmd = doc.SudoPasswordCmd
	}
	for name, v := range doc.Vars {
		if c.ns != "" && (r.Vars[name] != "" || r.ComputedVars[name] != "") {
			continue // the including file's value wins, as --var would
		}
		at := top.child("vars", -1).child(name, -1)
		if m, ok := v.(map[string]any); ok {
			c.computedVar(at, name, m, r)
			continue
		}
		s, ok := scalar(v)
		if !ok {
			c.fail(at, "var %q must be a string, number, boolean or { sh = \"command\" }", name)
			continue
		}
		r.Vars[name] = s
	}
	// Like default: an included file's [env] and dotenv serve it when it
	// is run on its own; in a tree the top file's rule. They are checked
	// either way.
	env := c.topEnv(top.child("env", -1), doc.Env, r)
	dotenv := c.dotenv(top.child("dotenv", -1), "", doc.Dotenv)
	if c.ns == "" {
		r.Env, r.Dotenv = env, dotenv
	}
	for name, v := range doc.Hosts {
		at := top.child("hosts", -1).child(name, -1)
		if g := c.hostGroup(at, name, v); g != nil {
			if old, ok := r.Groups[name]; ok && !sameGroup(old, g) {
				c.fail(at, "host group %q is already defined in %s; give one of them another name", name, c.groups[name])
				continue
			}
			r.Groups[name] = g
			if c.groups != nil {
				if _, ok := c.groups[name]; !ok {
					c.groups[name] = c.file
				}
			}
		}
	}
	c.hostVars(top.child("host_vars", -1), doc.HostVars, r)
	names := make([]string, 0, len(doc.Tasks))
	for name := range doc.Tasks {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		raw := doc.Tasks[name]
		at := top.child("tasks", -1).child(name, -1)
		t := c.task(at, name, &raw)
		if t == nil {
			continue
		}
		t.pos, t.file = at, c.file
		c.namespace(t)
		c.checkNames(t, r)
		if err := r.add(t); err != nil {
			var le *LoadError
			if errors.As(err, &le) {
				c.errs = append(c.errs, le)
			} else {
				c.fail(at, "%v", err)
			}
		}
	}
	c.services(doc.Services, r)
}

func (c *converter) hostGroup(at pos, name string, v any) *HostGroup {
	switch v := v.(type) {
	case []any:
		hosts, ok := strings_(v)
		if !ok {
			c.fail(at, "host group %q must list host strings", name)
			return nil
		}
		c.checkHosts(at, name, hosts)
		return &HostGroup{Hosts: hosts}
	case map[string]any:
		g := &HostGroup{}
		for k, val := range v {
			switch k {
			case "hosts":
				list, _ := val.([]any)
				hosts, ok := strings_(list)
				if !ok || list == nil {
					c.fail(at.child(k, -1), "host group %q: hosts must be a list of host strings", name)
				}
				c.checkHosts(at.child(k, -1), name, hosts)
				g.Hosts = hosts
			case "user":
				g.User, _ = val.(string)
			case "port":
				n, ok := val.(int64)
				if !ok || n <= 0 || n > 65535 {
					c.fail(at.child(k, -1), "host group %q: port must be a number from 1 to 65535", name)
				}
				g.Port = int(n)
			case "sudo_password_env":
				g.SudoPasswordEnv, _ = val.(string)
				if !validEnvName(g.SudoPasswordEnv) {
					c.fail(at.child(k, -1), "host group %q: sudo_password_env must name an environment variable, like \"WEB_SUDO_PW\"", name)
				}
			case "vars":
				g.Vars = c.varTable(at.child(k, -1), "host group "+strconv.Quote(name), val)
			case "command":
				cmd, ok := val.(string)
				if !ok || strings.TrimSpace(cmd) == "" {
					c.fail(at.child(k, -1), "host group %q: command must be a shell command printing the hosts as JSON, like \"./inventory.sh\"", name)
				}
				g.Command, g.dir = cmd, filepath.Dir(c.file)
			default:
				c.fail(at.child(k, -1), "unknown key %q in host group %q (use hosts, command, user, port, sudo_password_env, vars)", k, name)
			}
		}
		if _, ok := v["hosts"]; ok && g.Command != "" {
			c.fail(at.child("command", -1), "host group %q has both hosts and command; give it one or the other", name)
		}
		return g
	}
	c.fail(at, "host group %q must be a list of hosts or a table with hosts = [...]", name)
	return nil
}

// hostVars converts [host_vars.HOST] tables. Like [vars], an included
// file's value gives way to one the including file set.
func (c *converter) hostVars(at pos, raw map[string]any, r *Registry) {
	for host, v := range raw {
		hat := at.child(host, -1)
		if err := CheckHost(host); err != nil {
			c.fail(hat, "host_vars: %v", err)
			continue
		}
		vars := c.varTable(hat, "host_vars for "+strconv.Quote(host), v)
		if vars == nil {
			continue
		}
		have := r.HostVars[host]
		if have == nil {
			r.HostVars[host] = vars
			continue
		}
		for k, val := range vars {
			if _, ok := have[k]; !ok {
				have[k] = val
			} else if c.ns == "" {
				// Only an inventory comes before the top file.
				c.fail(hat.child(k, -1), "host_vars for %q: %s is already set by the inventory; set it in one place", host, k)
			}
		}
	}
}

// varTable converts the vars of a host group or of a host: a table of
// names to strings, numbers or booleans. Their values are data: they
// reach commands quoted, like every var.
func (c *converter) varTable(at pos, what string, v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		c.fail(at, "%s: vars must be a table, like { role = \"app\" }", what)
		return nil
	}
	vars := make(map[string]string, len(m))
	for k, val := range m {
		if builtin(k) {
			c.fail(at.child(k, -1), "%s: {{.%s}} is built in; give the var another name", what, k)
			continue
		}
		s, ok := scalar(val)
		if !ok {
			c.fail(at.child(k, -1), "%s: var %q must be a string, number or boolean", what, k)
			continue
		}
		vars[k] = s
	}
	return vars
}

// checkHosts reports every host of a group that could never connect.
func (c *converter) checkHosts(at pos, group string, hosts []string) {
	for i, h := range hosts {
		if err := CheckHost(h); err != nil {
			c.fail(at.index(i), "host group %q: %v", group, err)
		}
	}
}

func strings_(list []any) ([]string, bool) {
	out := make([]string, 0, len(list))
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// scalar renders a TOML string, integer, float or boolean as a string.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func (c *converter) task(at pos, name string, raw *rawTask) *Task {
	t := &Task{
		Name: name, Help: raw.Help, Aliases: raw.Aliases, Deps: raw.Deps, Post: raw.Post,
		Dir: raw.Dir, Pty: raw.Pty, Warn: raw.Warn, Retries: raw.Retries,
		Sources: raw.Sources, Generates: raw.Generates, Status: raw.Status,
		UseGitignore: raw.UseGitignore, Hidden: raw.Hidden,
	}
	t.Env = c.env(at.child("env", -1), name, raw.Env)
	t.Dotenv = c.dotenv(at.child("dotenv", -1), name, raw.Dotenv)
	t.Timeout = c.duration(at.child("timeout", -1), name, raw.Timeout)
	t.ForwardAgent = raw.ForwardAgent
	if raw.Nice != nil {
		t.Nice = *raw.Nice
		if t.Nice < -20 || t.Nice > 19 {
			c.fail(at.child("nice", -1), "task %q: nice must be from -20 to 19", name)
		}
	}
	t.Sudo = c.sudo(at.child("sudo", -1), name, raw.Sudo)
	t.Answers = c.responders(at, name, raw.Responders)
	for i, a := range raw.Args {
		t.Args = append(t.Args, Arg{Name: a.Name, Type: ArgType(a.Type), Default: a.Default,
			Required: a.Required, Help: a.Help, Short: a.Short, DefaultEnv: a.DefaultEnv,
			Positional: a.Positional, Variadic: a.Variadic, Choices: a.Choices})
		if a.Name == "" {
			c.fail(at.child("args", i), "task %q: argument %d has no name", name, i+1)
		}
	}
	t.If = raw.If
	t.RetryDelay = c.duration(at.child("retry_delay", -1), name, raw.RetryDelay)
	t.Until = raw.Until
	for i, p := range raw.Preconditions {
		if strings.TrimSpace(p.Sh) == "" {
			c.fail(at.child("preconditions", i), "task %q: precondition %d needs sh = \"a command\"", name, i+1)
		}
		t.Preconditions = append(t.Preconditions, Precondition{Sh: p.Sh, Msg: p.Msg, pos: at.child("preconditions", i).child("sh", -1)})
	}
	switch v := raw.Confirm.(type) {
	case nil:
	case bool:
		if v {
			t.Confirm = fmt.Sprintf("Run task %s?", name)
		}
	case string:
		t.Confirm = v
	default:
		c.fail(at.child("confirm", -1), "task %q: confirm must be true or a question", name)
	}
	switch v := raw.Hosts.(type) {
	case nil:
	case string:
		t.Hosts = []string{v}
	case []any:
		hosts, ok := strings_(v)
		if !ok {
			c.fail(at.child("hosts", -1), "task %q: hosts must be a group name or a list of hosts", name)
		}
		t.Hosts = hosts
	default:
		c.fail(at.child("hosts", -1), "task %q: hosts must be a group name or a list of hosts", name)
	}
	if t.Nice != 0 && len(t.Hosts) > 0 {
		c.fail(at.child("nice", -1), "task %q: nice is not yet supported for tasks with hosts; it applies on this machine only", name)
	}
	c.serial(at, t, raw)
	switch v := raw.MaxFail.(type) {
	case nil:
	case int64:
		t.MaxFail = strconv.FormatInt(v, 10)
	case string:
		if p, ok := strings.CutSuffix(v, "%"); !ok || !isNumber(p) {
			c.fail(at.child("max_fail", -1), "task %q: max_fail must be a number or a percentage like \"25%%\"", name)
		}
		t.MaxFail = v
	default:
		c.fail(at.child("max_fail", -1), "task %q: max_fail must be a number or a percentage like \"25%%\"", name)
	}

	if runs, _ := raw.Run.([]any); len(runs)+len(raw.Steps) > 0 {
		t.Steps = make([]Step, 0, len(runs)+len(raw.Steps))
	}
	switch run := raw.Run.(type) {
	case nil:
	case string:
		t.Steps = append(t.Steps, Step{Run: run, pos: at.child("run", -1)})
	case []any:
		for i, v := range run {
			s, ok := v.(string)
			if !ok {
				c.fail(at.child("run", i), "task %q: run must be a string or a list of strings", name)
				continue
			}
			t.Steps = append(t.Steps, Step{Run: s, pos: at.child("run", i)})
		}
	default:
		c.fail(at.child("run", -1), "task %q: run must be a string or a list of strings", name)
	}
	if raw.Run != nil && len(raw.Steps) > 0 {
		c.fail(at.child("steps", -1), "task %q has both run and steps; put the commands in steps", name)
	}
	for i := range raw.Steps {
		if s, ok := c.step(at.child("steps", i), name, &raw.Steps[i]); ok {
			t.Steps = append(t.Steps, s)
		}
	}
	return t
}

// serial reads serial (a number of hosts or a list of batch sizes) and
// max_fail_percent.
func (c *converter) serial(at pos, t *Task, raw *rawTask) {
	name := t.Name
	switch v := raw.Serial.(type) {
	case nil:
	case int64:
		if v < 0 {
			c.fail(at.child("serial", -1), "task %q: serial must not be negative", name)
			v = 0 // said once, here at its key
		}
		t.Serial = int(v)
	case []any:
		if len(v) == 0 {
			c.fail(at.child("serial", -1), "task %q: serial must not be an empty list; leave it out to run every host at once", name)
		}
		for i, b := range v {
			size, ok := batchSize(b)
			if !ok {
				c.fail(at.child("serial", i), "task %q: serial batch %d must be a number of hosts (at least 1) or a percentage from \"1%%\" to \"100%%\", like \"10%%\"", name, i+1)
				continue
			}
			t.Batches = append(t.Batches, size)
		}
	default:
		c.fail(at.child("serial", -1), "task %q: serial must be a number of hosts or a list of batch sizes like [1, \"10%%\", \"100%%\"]", name)
	}
	var pct float64
	switch v := raw.MaxFailPct.(type) {
	case nil:
		return
	case int64:
		pct = float64(v)
	case float64:
		pct = v
	default:
		pct = -1
	}
	if !(pct >= 0 && pct <= 100) { // NaN too
		c.fail(at.child("max_fail_percent", -1), "task %q: max_fail_percent must be a number from 0 to 100", name)
		return
	}
	t.MaxFailPercent = &pct
}

// batchSize checks one entry of a serial list: a whole number of hosts,
// at least 1, or a percentage above 0 and at most 100.
func batchSize(v any) (string, bool) {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10), v >= 1
	case string:
		p, ok := strings.CutSuffix(v, "%")
		if !ok {
			return "", false
		}
		n, err := strconv.ParseFloat(p, 64)
		return v, err == nil && n > 0 && n <= 100 // NaN fails both
	}
	return "", false
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func (c *converter) step(at pos, task string, raw *rawStep) (Step, bool) {
	s := Step{
		Run: raw.Run, Local: raw.Local, Task: raw.Task, Put: raw.Put, Get: raw.Get, To: raw.To,
		Warn: raw.Warn, Dir: raw.Dir, Pty: raw.Pty, Once: raw.Once, pos: at,
		Retries: raw.Retries, If: raw.If,
	}
	if raw.Retries != nil && *raw.Retries < 0 {
		c.fail(at.child("retries", -1), "task %q: retries must not be negative", task)
	}
	if raw.Defer != nil {
		c.deferStep(at, task, raw, &s)
	}
	kinds := 0
	for _, v := range []string{raw.Run, raw.Local, raw.Task, raw.Put, raw.Get} {
		if v != "" {
			kinds++
		}
	}
	if kinds != 1 {
		c.fail(at, "task %q: a step needs exactly one of run, local, task, put, get or defer", task)
		return s, false
	}
	if (raw.Put != "" || raw.Get != "") != (raw.To != "") {
		c.fail(at, "task %q: put and get steps need to = \"destination\" (and only they take it)", task)
	}
	if raw.Mode != "" {
		m, err := strconv.ParseUint(raw.Mode, 8, 32)
		if err != nil || m > uint64(fs.ModePerm) || raw.Put == "" && raw.Get == "" {
			c.fail(at.child("mode", -1), "task %q: mode must be octal permission bits from \"0000\" to \"0777\", like \"0755\", on a put or get step", task)
		}
		s.Mode = fs.FileMode(m) & fs.ModePerm
	}
	if raw.Args != nil && raw.Task == "" {
		c.fail(at.child("args", -1), "task %q: args belong to a task step", task)
	}
	if raw.Args != nil {
		s.With = map[string]string{}
		for k, v := range raw.Args {
			str, ok := scalar(v)
			if !ok {
				c.fail(at.child("args", -1).child(k, -1), "task %q: argument %q must be a string, number or boolean", task, k)
			}
			s.With[k] = str
		}
	}
	switch v := raw.Sudo.(type) {
	case bool:
		if !v {
			s.NoSudo = true
		}
	}
	s.Sudo = c.sudo(at.child("sudo", -1), task, raw.Sudo)
	s.Env = c.env(at.child("env", -1), task, raw.Env)
	s.Timeout = c.duration(at.child("timeout", -1), task, raw.Timeout)
	s.RetryDelay = c.duration(at.child("retry_delay", -1), task, raw.RetryDelay)
	s.Until = raw.Until
	s.Answers = c.responders(at, task, raw.Responders)
	c.loop(at, task, raw, &s)
	if raw.Capture != "" {
		s.Capture = raw.Capture
		switch {
		case raw.Run == "" && raw.Local == "":
			c.fail(at.child("capture", -1), "task %q: capture belongs to a run or local step", task)
		case !validName(raw.Capture):
			c.fail(at.child("capture", -1), "task %q: capture %q is not a name: a letter followed by letters, digits, '-', '_', ':' or '.'", task, raw.Capture)
		case raw.Pty != nil && *raw.Pty:
			c.fail(at.child("pty", -1), "task %q: a capture step runs without a pseudo-terminal (its stdout must stay apart from stderr); remove pty = true", task)
		}
	}
	return s, true
}

func (c *converter) env(at pos, task string, raw map[string]any) map[string]string {
	if raw == nil {
		return nil
	}
	env := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := scalar(v)
		if !ok {
			c.fail(at.child(k, -1), "task %q: env %s must be a string, number or boolean", task, k)
		}
		env[k] = s
	}
	return env
}

// topEnv converts the top-level [env]: its keys must be variable names
// and its {{.name}} vars, as no task's arguments are in scope there.
func (c *converter) topEnv(at pos, raw map[string]any, r *Registry) map[string]string {
	if raw == nil {
		return nil
	}
	env := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := scalar(v)
		if !ok {
			c.fail(at.child(k, -1), "[env] %s must be a string, number or boolean", k)
			continue
		}
		if !validEnvName(k) {
			c.fail(at.child(k, -1), "[env] key %q is not a variable name: use letters, digits and '_', not starting with a digit", k)
			continue
		}
		ns, err := names(s)
		if err != nil {
			c.fail(at.child(k, -1), "[env] %s: %v", k, err)
			continue
		}
		for _, n := range ns {
			if _, ok := r.Vars[n]; !ok && !builtin(n) && r.ComputedVars[n] == "" {
				c.fail(at.child(k, -1), "[env] %s: {{.%s}} is not a var; declare it under [vars] (a task's arguments belong in the task's env)", k, n)
			}
		}
		env[k] = s
	}
	return env
}

// computedVar converts a var written { sh = "command" }. The command is
// taken as written: no {{.name}} is substituted in it (it runs before
// any value is known), so `docker inspect -f '{{.Id}}'` works.
func (c *converter) computedVar(at pos, name string, m map[string]any, r *Registry) {
	for k := range m {
		if k != "sh" {
			c.fail(at.child(k, -1), "unknown key %q in var %q (a computed var is { sh = \"command\" })", k, name)
		}
	}
	sh, ok := m["sh"].(string)
	if !ok || strings.TrimSpace(sh) == "" {
		c.fail(at, "var %q: sh must be a command, like { sh = \"git describe --tags --always\" }", name)
		return
	}
	r.ComputedVars[name] = sh
}

// dotenv checks a dotenv list: each entry a path, "!path" if required.
func (c *converter) dotenv(at pos, task string, list []string) []string {
	for i, e := range list {
		if p := parseDotenvEntry(e); p.path == "" || strings.HasPrefix(p.path, "!") {
			where := "dotenv"
			if task != "" {
				where = fmt.Sprintf("task %q: dotenv", task)
			}
			c.fail(at.index(i), "%s entry %q is not a file path; write \".env\", or \"!.env\" for a file that must exist", where, e)
		}
	}
	return list
}

func (c *converter) duration(at pos, task, s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		c.fail(at, "task %q: %q is not a duration like \"30s\", \"5m\" or \"1h30m\"", task, s)
	}
	return d
}

func (c *converter) sudo(at pos, task string, v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case bool:
		if v {
			return "root"
		}
		return ""
	case string:
		if v == "" || strings.ContainsAny(v, " \t\n'\"$`\\;|&") {
			c.fail(at, "task %q: sudo must be true, false or a user name", task)
		}
		return v
	}
	c.fail(at, "task %q: sudo must be true, false or a user name", task)
	return ""
}

func (c *converter) responders(at pos, task string, raw []rawResponder) []Answer {
	var out []Answer
	for i, r := range raw {
		p := at.child("responders", i)
		if err := checkPattern(r.Pattern); err != nil {
			c.fail(p.child("pattern", -1), "task %q: responder pattern %q: %v", task, r.Pattern, err)
		}
		if (r.Response == "") == (r.ResponseEnv == "") {
			c.fail(p, "task %q: a responder needs exactly one of response or response_env", task)
		}
		out = append(out, Answer(r))
	}
	return out
}

// checkNames checks at load time that every {{.name}} a task uses is one
// of its arguments, a var or a built-in, so that a typo never reaches a
// shell.
func (c *converter) checkNames(t *Task, r *Registry) {
	loop := false // checking a step with for: {{.item}} is known
	known := func(name string) bool {
		if _, ok := r.Vars[name]; ok || builtin(name) || loop && name == "item" || r.ComputedVars[name] != "" || r.IsHostVar(name) {
			return true
		}
		for _, a := range t.Args {
			if a.Name == name {
				return true
			}
		}
		return false
	}
	captured := map[string]bool{}   // by the steps checked so far
	captureStep := map[string]int{} // name -> the step that captures it
	for i, s := range t.Steps {
		if s.Capture != "" {
			if known(s.Capture) || captureStep[s.Capture] > 0 {
				c.fail(s.pos.child("capture", -1), "task %q: capture %q is already the name of an argument, a var or an earlier capture; choose another", t.Name, s.Capture)
			}
			captureStep[s.Capture] = i + 1
		}
	}
	check := func(p pos, s string) {
		ns, err := names(s)
		if err != nil {
			c.fail(p, "task %q: %v", t.Name, err)
			return
		}
		for _, n := range ns {
			switch {
			case known(n) || captured[n]:
			case n == "item":
				c.fail(p, "task %q: {{.item}} is the item of a loop; add for = [...] to the step", t.Name)
			case captureStep[n] > 0:
				c.fail(p, "task %q: {{.%s}} is captured by step %d and can be used only in the steps after it", t.Name, n, captureStep[n])
			default:
				c.fail(p, "task %q: {{.%s}} is not an argument of the task or a var; declare it under args or [vars]", t.Name, n)
			}
		}
	}
	check(t.pos.child("dir", -1), t.Dir)
	for k, v := range t.Env {
		check(t.pos.child("env", -1).child(k, -1), v)
	}
	for i, s := range t.Sources {
		check(t.pos.child("sources", i), s)
	}
	for i, s := range t.Generates {
		check(t.pos.child("generates", i), s)
	}
	for i, s := range t.Status {
		check(t.pos.child("status", i), s)
	}
	check(t.pos.child("if", -1), t.If)
	check(t.pos.child("until", -1), t.Until)
	for _, p := range t.Preconditions {
		check(p.pos, p.Sh)
	}
	for _, s := range t.Steps {
		loop = s.looped()
		check(s.pos.child("if", -1), s.If)
		check(s.pos.child("until", -1), s.Until)
		for _, field := range []string{s.Run, s.Local, s.Put, s.Get, s.To, s.Dir} {
			check(s.pos, field)
		}
		check(s.pos.child("for", -1), s.ForSh)
		for _, v := range s.With {
			check(s.pos, v)
		}
		for _, v := range s.Env {
			check(s.pos, v)
		}
		if s.Capture != "" {
			captured[s.Capture] = true
		}
	}
}

// builtin names are always available to {{.name}}.
func builtin(name string) bool { return name == "host" || name == PassthroughName }

// deferStep reads a cleanup step: defer = "command" or defer = { task =
// "name", args = { ... } } (or { run = "command" }). Its command or call
// moves into the step's Run or Task, so it is checked like any other.
func (c *converter) deferStep(at pos, task string, raw *rawStep, s *Step) {
	at = at.child("defer", -1)
	if raw.Run != "" || raw.Local != "" || raw.Task != "" || raw.Put != "" || raw.Get != "" {
		c.fail(at, "task %q: a defer step holds its command or call itself: { defer = \"cmd\" } or { defer = { task = \"name\" } }", task)
		return
	}
	s.Defer = true
	switch v := raw.Defer.(type) {
	case string:
		raw.Run, s.Run = v, v
		return
	case map[string]any:
		for k, x := range v {
			switch k {
			case "run", "task":
				str, ok := x.(string)
				if !ok {
					c.fail(at.child(k, -1), "task %q: defer's %s must be a string", task, k)
					continue
				}
				if k == "run" {
					raw.Run, s.Run = str, str
				} else {
					raw.Task, s.Task = str, str
				}
			case "args":
				m, ok := x.(map[string]any)
				if !ok {
					c.fail(at.child(k, -1), "task %q: defer's args must be a table", task)
					continue
				}
				raw.Args = m
			default:
				c.fail(at.child(k, -1), "task %q: unknown key %q in defer (use run, or task with args)", task, k)
			}
		}
		return
	}
	c.fail(at, "task %q: defer must be a command or { task = \"name\" }", task)
}
