package task

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Include is a file that tasks.toml's [includes] table added, with every
// task of it named "Namespace:task".
type Include struct {
	// Namespace prefixes the file's tasks: "web", or "web:api" for a
	// file that web's file includes.
	Namespace string
	// File is the included tasks.toml, as errors name it.
	File string
	// Dir is where the file's tasks run: the file's directory unless
	// the include says dir = "...".
	Dir string
}

// Namespace returns the namespace of a task from an included file
// ("web" for "web:build"), or "" for a task of the top file or Go code.
func (t *Task) Namespace() string { return t.ns }

// dirIn returns the directory that t's relative paths start from.
func (t *Task) dirIn(r *Registry) string {
	if t.base != "" {
		return t.base
	}
	return r.Dir
}

// loader reads a tasks.toml and the files it includes into one registry.
// Each file is read once per include of it, so loading stays linear in
// the size of the tree.
type loader struct {
	r    *Registry
	docs map[string][]byte // every file read, by the name errors give it
	errs []*LoadError
}

// unit is the place of one file in the tree of includes.
type unit struct {
	ns    string   // "web:" for an included file, "" for the top one
	base  string   // where its tasks run; "" for the registry's Dir
	chain []string // absolute paths from the top file to this one
	names []string // the same files as errors name them
}

// file converts one file's tasks into l.r, then the files it includes.
// It returns an error only for one that is not a LoadError.
func (l *loader) file(path string, data []byte, u unit) error {
	l.docs[path] = data
	tree, err := parseTOML(data)
	if err != nil {
		var te *tomlError
		if errors.As(err, &te) {
			l.errs = append(l.errs, &LoadError{File: path, Line: te.line, Col: te.col, Msg: te.msg})
			return nil
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	var doc rawFile
	if errs := decodeTOML(data, tree, &doc); len(errs) > 0 {
		for _, e := range errs {
			e.File = path
		}
		l.errs = append(l.errs, errs...)
		return nil
	}
	if l.r.groupFiles == nil {
		l.r.groupFiles = map[string]string{}
	}
	c := &converter{file: path, ns: u.ns, base: u.base, groups: l.r.groupFiles}
	c.file2registry(&doc, l.r)
	l.errs = append(l.errs, c.errs...)
	for _, name := range slices.Sorted(maps.Keys(doc.Includes)) {
		if err := l.include(path, u, name, doc.Includes[name]); err != nil {
			return err
		}
	}
	return nil
}

// include reads the file that key name of from's [includes] names.
func (l *loader) include(from string, u unit, name string, v any) error {
	at := pos{}.child("includes", -1).child(name, -1)
	fail := func(p pos, format string, args ...any) {
		l.errs = append(l.errs, &LoadError{File: from, Msg: fmt.Sprintf(format, args...), path: p.path})
	}
	if !validNamespace(name) {
		fail(at, "include %q: a namespace is letters, digits, '-', '_' and '.', like web", name)
		return nil
	}
	var file, dir string
	var optional bool
	switch v := v.(type) {
	case string:
		file = v
	case map[string]any:
		for k, val := range v {
			var ok bool
			switch k {
			case "file":
				file, ok = val.(string)
			case "dir":
				dir, ok = val.(string)
			case "optional":
				optional, ok = val.(bool)
			default:
				fail(at.child(k, -1), "include %q: unknown key %q (use file, dir, optional)", name, k)
				continue
			}
			if !ok {
				fail(at.child(k, -1), "include %q: %s has the wrong type (file and dir are strings, optional true or false)", name, k)
			}
		}
	default:
		fail(at, "include %q must be a file name or a table like { file = \"web/tasks.toml\" }", name)
		return nil
	}
	if file == "" {
		fail(at, "include %q names no file; write %s = \"path/to/tasks.toml\"", name, name)
		return nil
	}
	fromDir := filepath.Dir(u.chain[len(u.chain)-1])
	abs := file
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(fromDir, file)
	}
	shown := file
	if !filepath.IsAbs(shown) {
		shown = filepath.Join(filepath.Dir(from), file)
	}
	if i := slices.Index(u.chain, abs); i >= 0 {
		cycle := append(slices.Clone(u.names[i:]), shown)
		fail(at, "include cycle: %s; an included file may not include a file that includes it", strings.Join(cycle, " -> "))
		return nil
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if !optional {
				fail(at, "include %q: %s: no such file; fix the path, or write { file = %q, optional = true }", name, shown, file)
			}
			return nil
		}
		fail(at, "include %q: %v", name, err)
		return nil
	}
	base := filepath.Dir(abs)
	if dir != "" {
		base = joinDir(fromDir, dir)
	}
	ns := u.ns + name + ":"
	l.r.Includes = append(l.r.Includes, Include{Namespace: strings.TrimSuffix(ns, ":"), File: shown, Dir: base})
	return l.file(shown, data, unit{ns: ns, base: base,
		chain: append(slices.Clip(u.chain), abs), names: append(slices.Clip(u.names), shown)})
}

func validNamespace(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// namespace names t for the file it came from: "build" in web's file
// becomes "web:build", and so do its aliases. A task it calls by a short
// name is one of the same file ("prepare" is "web:prepare"); ":lint"
// is the top file's lint, from any file.
func (c *converter) namespace(t *Task) {
	t.ns, t.base = strings.TrimSuffix(c.ns, ":"), c.base
	t.Name = c.ns + t.Name
	for i, a := range t.Aliases {
		if i == 0 {
			t.Aliases = slices.Clone(t.Aliases)
		}
		t.Aliases[i] = c.ns + a
	}
	t.Deps, t.Post = c.refs(t.Deps), c.refs(t.Post)
	for i := range t.Steps {
		if t.Steps[i].Task != "" {
			t.Steps[i].Task = c.ref(t.Steps[i].Task)
		}
	}
}

// ref resolves a task or service name written in c's file: a short name
// is one of the same file ("prepare" is "web:prepare"); ":lint" is the
// top file's lint, from any file.
func (c *converter) ref(name string) string {
	if top, ok := strings.CutPrefix(name, ":"); ok {
		return top
	}
	return c.ns + name
}

// refs resolves each name of list as ref does; nil stays nil.
func (c *converter) refs(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, n := range list {
		out[i] = c.ref(n)
	}
	return out
}

// sameGroup reports whether two files define a host group alike, which
// is not a clash.
func sameGroup(a, b *HostGroup) bool {
	return slices.Equal(a.Hosts, b.Hosts) && a.User == b.User && a.Port == b.Port && a.SudoPasswordEnv == b.SudoPasswordEnv && maps.Equal(a.Vars, b.Vars) && a.Command == b.Command
}

// locate fills in the line and column of every error from the file it
// names, and sorts them by file, in the order the files were read, then
// by position.
func (l *loader) locate() {
	byFile := map[string][]*LoadError{}
	for _, e := range l.errs {
		byFile[e.File] = append(byFile[e.File], e)
	}
	for f, errs := range byFile {
		if data, ok := l.docs[f]; ok {
			locate(data, errs)
		}
	}
	order := map[string]int{l.r.File: 0}
	for i, inc := range l.r.Includes {
		order[inc.File] = i + 1
	}
	slices.SortStableFunc(l.errs, func(a, b *LoadError) int {
		if a.File != b.File {
			return order[a.File] - order[b.File]
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
}
