package task

import (
	"fmt"
	"os"
	"strings"

	"github.com/gotask/gotask/internal/shell"
)

// unknownNameError reports a {{.name}} that has no value.
type unknownNameError struct{ name string }

func (e *unknownNameError) Error() string { return fmt.Sprintf("unknown name {{.%s}}", e.name) }

// render substitutes lookup's values into the template.
func (t *shellTemplate) render(lookup func(string) (string, bool)) (string, error) {
	return t.renderWords(lookup, nil)
}

// renderWords substitutes lookup's values into the template. A name that
// words knows is a list (such as {{.ARGS}}): where it stands as a whole
// argument of a command or a whole item of a for loop's list, each item
// is its own quoted word (none when the list is empty); anywhere else,
// lookup's value stands, which joins the items with spaces. Nil words
// knows no lists.
func (t *shellTemplate) renderWords(lookup func(string) (string, bool), words func(string) ([]string, bool)) (string, error) {
	if len(t.holes) == 0 {
		return t.src, nil
	}
	values := make([]string, len(t.holes))
	for i, h := range t.holes {
		if h.kind == holeWord && h.words && words != nil {
			if list, ok := words(h.name); ok {
				quoted := make([]string, len(list))
				for j, w := range list {
					if strings.IndexByte(w, 0) >= 0 {
						return "", &ValueError{Name: h.name, Msg: "holds a NUL byte, which no command line can carry"}
					}
					quoted[j] = quoteWord(w, h.quote)
				}
				values[i] = strings.Join(quoted, " ")
				continue
			}
		}
		v, ok := lookup(h.name)
		if !ok {
			return "", &unknownNameError{name: h.name}
		}
		if strings.IndexByte(v, 0) >= 0 {
			return "", &ValueError{Name: h.name, Msg: "holds a NUL byte, which no command line can carry"}
		}
		values[i] = v
	}
	var b strings.Builder
	var vars []string           // the prelude's assignments
	refs := map[string]string{} // placeholder name -> shell variable
	ref := func(name, v string) string {
		if r, ok := refs[name]; ok {
			return r
		}
		r := "__gotask_" + strings.Map(func(c rune) rune {
			if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				return c
			}
			return '_'
		}, name)
		for _, used := range refs {
			if used == r {
				r += fmt.Sprint("_", len(refs))
				break
			}
		}
		refs[name] = r
		vars = append(vars, r+"="+quoteAlways(v))
		return r
	}
	prev := 0
	for i, h := range t.holes {
		b.WriteString(t.src[prev:h.start])
		prev = h.end
		v := values[i]
		switch h.kind {
		case holeWord:
			if h.words && words != nil {
				if _, ok := words(h.name); ok {
					b.WriteString(v) // quoted word by word above
					break
				}
			}
			b.WriteString(quoteWord(v, h.quote))
		case holeSingle:
			b.WriteString("'" + quoteAlways(v) + "'")
		case holeDollarSingle:
			b.WriteString("'" + quoteAlways(v) + "$'")
		case holeDouble:
			b.WriteString(escapeDouble(v))
		case holeParam:
			b.WriteString(`"${` + ref(h.name, v) + `}"`)
		case holeParamQuoted, holeHeredoc:
			b.WriteString("${" + ref(h.name, v) + "}")
		case holeQuotedHeredoc:
			if err := h.checkHeredocValue(v); err != nil {
				return "", err
			}
			b.WriteString(v)
		case holeArith, holeArithWord:
			n, err := arithValue(h.name, v)
			if err != nil {
				return "", err
			}
			if h.kind == holeArithWord {
				n = quoteWord(n, false)
			}
			b.WriteString(n)
		case holeComment:
			b.WriteString(strings.NewReplacer("\n", " ", "\r", " ").Replace(v))
		}
	}
	b.WriteString(t.src[prev:])
	if err := t.checkHeredocs(values); err != nil {
		return "", err
	}
	line := b.String()
	if len(vars) > 0 {
		line = strings.Join(vars, " ") + " && " + line
	}
	if len(line) > maxCommandLine {
		big := 0
		for i := range values {
			if len(values[i]) > len(values[big]) {
				big = i
			}
		}
		return "", &ValueError{Name: t.holes[big].name, Msg: fmt.Sprintf(
			"is %d bytes, which makes the command %d bytes, more than the %d a command line can carry; pass large data in a file (a put step, or a path argument) or on stdin",
			len(values[big]), len(line), maxCommandLine)}
	}
	return line, nil
}

// checkHeredocValue refuses a value whose leading tabs a <<- here-document
// would strip.
func (h *hole) checkHeredocValue(v string) error {
	if !h.doc.dash {
		return nil
	}
	if strings.Contains(v, "\n\t") || h.lineStart && strings.HasPrefix(v, "\t") {
		return &ValueError{Name: h.name, Msg: fmt.Sprintf("has a line that starts with a tab, which the here-document <<-%s would strip; use <<%s", h.doc.delim, h.doc.delim)}
	}
	return nil
}

// checkHeredocs refuses values that would end a quoted here-document
// early: with a line equal to its delimiter, the rest of the value would
// run as commands.
func (t *shellTemplate) checkHeredocs(values []string) error {
	var docs []*heredoc
	for _, h := range t.holes {
		if h.doc != nil && (len(docs) == 0 || docs[len(docs)-1] != h.doc) {
			docs = append(docs, h.doc)
		}
	}
	for _, d := range docs {
		var b strings.Builder
		prev := d.start
		culprit := ""
		for i, h := range t.holes {
			if h.doc != d {
				continue
			}
			b.WriteString(t.src[prev:h.start])
			b.WriteString(values[i])
			prev = h.end
			if strings.Contains(values[i], d.delim) || culprit == "" {
				culprit = h.name
			}
		}
		b.WriteString(t.src[prev:d.end])
		for line := range strings.SplitSeq(b.String(), "\n") {
			if d.dash {
				line = strings.TrimLeft(line, "\t")
			}
			if line == d.delim {
				return &ValueError{Name: culprit, Msg: fmt.Sprintf("has a line %q, which would end the here-document <<'%s' early and run the rest as commands", d.delim, d.delim)}
			}
			if dashDropsByte(line, d.delim) {
				return &ValueError{Name: culprit, Msg: fmt.Sprintf("has a line that starts like the delimiter %q and goes on with a byte above 0x7f, which sh (dash 0.5.12) drops from a here-document; use an unquoted here-document (<<%s), where values arrive exact", d.delim, d.delim)}
			}
		}
	}
	return nil
}

// dashDropsByte reports a here-document line that dash 0.5.12 mangles:
// when a line begins like the delimiter, the first byte that differs is
// lost if it is above 0x7f.
func dashDropsByte(line, delim string) bool {
	k := 0
	for k < len(line) && k < len(delim) && line[k] == delim[k] {
		k++
	}
	return k > 0 && k < len(line) && line[k] >= 0x80
}

// quoteWord renders v as one shell word: bare when that is safe and
// readable, single-quoted otherwise.
func quoteWord(v string, force bool) string {
	if force || v == "" || strings.Contains(v, "=") || reserved[v] {
		return quoteAlways(v)
	}
	return shell.Quote(v)
}

// quoteAlways wraps v in single quotes.
func quoteAlways(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// reserved are words that a shell reads as syntax where a command starts.
var reserved = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "do": true, "done": true,
	"case": true, "esac": true, "while": true, "until": true, "for": true, "in": true,
	"function": true, "select": true, "time": true, "coproc": true,
	"repeat": true, "foreach": true, "end": true, "nocorrect": true, "noglob": true,
}

// escapeDouble escapes what a shell interprets inside double quotes.
func escapeDouble(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '$', '`', '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// arithValue checks that v is a decimal integer, the only thing a value
// may be in arithmetic: bash evaluates names and subscripts there, so
// any other text could run code.
func arithValue(name, v string) (string, error) {
	digits := strings.TrimPrefix(v, "-")
	ok := len(digits) > 0 && len(digits) <= 18 && (digits == "0" || digits[0] != '0')
	for i := 0; ok && i < len(digits); i++ {
		ok = '0' <= digits[i] && digits[i] <= '9'
	}
	if !ok {
		return "", &ValueError{Name: name, Msg: fmt.Sprintf("is %q, but it stands in arithmetic, where only a decimal integer (at most 18 digits, no leading zero) is safe", clip(v))}
	}
	if digits != v {
		return "(" + v + ")", nil
	}
	return v, nil
}

// shellTemplate returns the analysed template of line, a command of t
// declared at at. A placeholder that cannot be made safe is a LoadError
// naming the file, line and column of the command, and the task.
func (r *Registry) shellTemplate(t *Task, at pos, line string) (*shellTemplate, error) {
	tmpl, err := r.cmds.get(line)
	if err == nil {
		return tmpl, nil
	}
	le := &LoadError{File: t.file, Msg: fmt.Sprintf("task %q: %v", t.Name, err), path: at.path}
	if t.file != "" {
		if data, rerr := os.ReadFile(t.file); rerr == nil {
			locate(data, []*LoadError{le})
		}
	}
	return nil, le
}

// checkCommands places the placeholders of every command that t can run,
// with its deps, post tasks and called tasks, so that a placeholder that
// cannot be made safe stops the run before any command of it starts.
// Commands are parsed here, when a task is about to run, and not when
// tasks.toml is loaded, so that listing tasks parses nothing.
//
// The commands of t (with args), of its deps and of its post tasks (with
// their defaults) are also rendered, so that a value that cannot stand
// where it is used (a non-integer in arithmetic, say) stops the run too.
// Only the values of called tasks, computed as the run goes, and of the
// host are checked when their command is about to run.
func (e *execution) checkCommands(t *Task, args map[string]any) error {
	seen := map[*Task]bool{}
	var visit func(t *Task, args map[string]any) error
	visit = func(t *Task, args map[string]any) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		loop := false // checking a step with for
		lookup := func(name string) (string, bool) {
			if args == nil {
				return "", false
			}
			if loop && name == "item" {
				return "0", true // not known yet; safe in every context
			}
			if _, isArg := args[name]; !isArg && name == "host" {
				if _, isVar := e.Registry.Vars[name]; !isVar {
					return "0", true // not known yet; safe in every context
				}
			}
			if _, isArg := args[name]; !isArg && e.Registry.IsHostVar(name) {
				return "0", true // the host's value; checked when its command runs
			}
			if _, isArg := args[name]; !isArg && t.captures(name) {
				return "0", true // captured as the task runs; checked then
			}
			s := &scope{e: e, t: t, args: args}
			return s.lookup(name)
		}
		words := func(name string) ([]string, bool) { return argWords(args, e.Registry.Vars, name) }
		check := func(at pos, line string) error {
			tmpl, err := e.Registry.shellTemplate(t, at, line)
			if err != nil || args == nil {
				return err
			}
			if _, err := tmpl.renderWords(lookup, words); err != nil {
				return &TaskError{Task: t.Name, Err: err}
			}
			return nil
		}
		for i, line := range t.Status {
			if err := check(t.pos.child("status", i), line); err != nil {
				return err
			}
		}
		if err := check(t.pos.child("if", -1), t.If); err != nil {
			return err
		}
		if err := check(t.pos.child("until", -1), t.Until); err != nil {
			return err
		}
		for _, p := range t.Preconditions {
			if err := check(p.pos, p.Sh); err != nil {
				return err
			}
		}
		var calls []string
		for i := range t.Steps {
			st := &t.Steps[i]
			loop = st.looped()
			for _, line := range []string{st.Run, st.Local, st.ForSh, st.If, st.Until} {
				if err := check(st.pos, line); err != nil {
					return err
				}
			}
			if st.Task != "" {
				calls = append(calls, st.Task)
			}
		}
		loop = false
		for i, names := range [][]string{t.Deps, t.Post, calls} {
			for _, name := range names {
				u, err := e.Registry.Resolve(name)
				if err != nil {
					continue // running it reports the unknown task
				}
				var uargs map[string]any
				if i < 2 {
					uargs, _ = u.ParseArgs(nil) // nil on error: running it reports that
				}
				if err := visit(u, uargs); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return visit(t, args)
}
