package gobuild

import (
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// localModule is a Go module whose source go build takes from a local
// directory rather than from the module cache.
type localModule struct {
	path string // module path, as imports spell it
	dir  string // the directory holding its go.mod
}

// localModules returns the modules whose packages go build in the main
// module takes from local directories: the main module itself (whose
// go.mod is at gomod and holds modData), the modules that the go.work
// file at work (holding workData) uses, if work is not "", and every
// module replaced by a directory in go.work or in the go.mod of a module
// in use.
// When two entries name the same module path, the first wins: the main
// module, then go.work's replacements, then the workspace modules, then
// their replacements. The go.mod of every other module it returns, which
// go build reads for the module's requirements, is recorded in h.
func localModules(h hash.Hash, gomod string, modData []byte, work string, workData []byte) ([]localModule, error) {
	type modFile struct {
		path string
		data []byte
	}
	mainDir := filepath.Dir(gomod)
	mods := []localModule{{path: modulePath(modData), dir: mainDir}}
	modFiles := []modFile{{gomod, modData}}
	if work != "" {
		workDir := filepath.Dir(work)
		var uses []localModule
		for _, d := range directives(workData) {
			switch {
			case d[0] == "replace":
				if m, ok := replacement(d, workDir); ok {
					mods = append(mods, m)
				}
			case d[0] == "use" && len(d) == 2:
				dir := filepath.Join(workDir, filepath.FromSlash(d[1]))
				if filepath.IsAbs(d[1]) {
					dir = d[1]
				}
				uses = append(uses, localModule{dir: dir})
			}
		}
		for _, m := range uses {
			p := filepath.Join(m.dir, "go.mod")
			data, _ := os.ReadFile(p) // go build reports a missing one
			if m.path = modulePath(data); m.path != "" {
				mods = append(mods, m)
				modFiles = append(modFiles, modFile{p, data})
			}
		}
	}
	for _, f := range modFiles {
		for _, d := range directives(f.data) {
			if d[0] != "replace" {
				continue
			}
			if m, ok := replacement(d, filepath.Dir(f.path)); ok {
				mods = append(mods, m)
			}
		}
	}

	seen := make(map[string]bool, len(mods))
	out := mods[:0]
	for _, m := range mods {
		if m.path == "" || seen[m.path] {
			continue
		}
		seen[m.path] = true
		out = append(out, m)
	}
	for _, m := range out {
		if m.dir == mainDir {
			continue // recorded by the caller
		}
		if _, err := recordFile(h, "local module", filepath.Join(m.dir, "go.mod")); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolve returns the directory of the package with the given import path
// if it belongs to one of mods; the module with the longest matching path
// wins, as a nested module's packages are not its parent's.
func resolve(mods []localModule, importPath string) (dir string, ok bool) {
	best := -1
	for i, m := range mods {
		if (importPath == m.path || strings.HasPrefix(importPath, m.path+"/")) &&
			(best < 0 || len(m.path) > len(mods[best].path)) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	m := mods[best]
	return filepath.Join(m.dir, filepath.FromSlash(strings.TrimPrefix(importPath, m.path))), true
}

// modulePath returns the path named by the module directive of a go.mod
// file, or "" if it has none.
func modulePath(gomod []byte) string {
	for _, d := range directives(gomod) {
		if d[0] == "module" && len(d) == 2 {
			return d[1]
		}
	}
	return ""
}

// replacement returns the module that a replace directive d, from a file
// in dir, points at a local directory, if it does: "replace old [v] =>
// ./new".
func replacement(d []string, dir string) (localModule, bool) {
	// d is "replace", the old path, maybe a version, "=>", the new path
	// and, for a module rather than a directory, its version.
	n := len(d)
	if n < 4 || d[n-2] != "=>" || !isDirectoryPath(d[n-1]) || (n != 4 && n != 5) {
		return localModule{}, false
	}
	target := d[n-1]
	if !filepath.IsAbs(target) {
		target = filepath.Join(dir, filepath.FromSlash(target))
	}
	return localModule{path: d[1], dir: target}, true
}

// isDirectoryPath reports whether the target of a replace directive is a
// directory rather than a module path, by the rule go.mod files follow on
// every system: it is "." or "..", or starts with "./", "../", "/", a
// backslash or a drive letter.
func isDirectoryPath(p string) bool {
	return p == "." || p == ".." ||
		strings.HasPrefix(p, "./") || strings.HasPrefix(p, `.\`) ||
		strings.HasPrefix(p, "../") || strings.HasPrefix(p, `..\`) ||
		strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) ||
		len(p) >= 2 && p[1] == ':' && ('A' <= p[0] && p[0] <= 'Z' || 'a' <= p[0] && p[0] <= 'z')
}

// directives splits a go.mod or go.work file into its directives, each the
// verb followed by its arguments, with quoted arguments unquoted. A block
// such as "replace ( ... )" yields one directive per line, each starting
// with the block's verb. Lines it cannot make sense of are dropped: go
// build rejects such a file anyway.
func directives(data []byte) [][]string {
	var (
		out   [][]string
		block string // the verb of the block being read, if any
	)
	for line := range strings.Lines(string(data)) {
		toks := modTokens(line)
		switch {
		case len(toks) == 0:
		case block != "" && len(toks) == 1 && toks[0] == ")":
			block = ""
		case block != "":
			out = append(out, append([]string{block}, toks...))
		case len(toks) == 2 && toks[1] == "(":
			block = toks[0]
		default:
			out = append(out, toks)
		}
	}
	return out
}

// modTokens splits one line of a go.mod file into tokens, dropping a
// trailing // comment. A token is a quoted string (returned unquoted), a
// parenthesis, or a run of other characters up to white space.
func modTokens(line string) []string {
	var toks []string
	for {
		line = strings.TrimLeft(line, " \t\r\n")
		if line == "" || strings.HasPrefix(line, "//") {
			return toks
		}
		switch line[0] {
		case '(', ')':
			toks = append(toks, line[:1])
			line = line[1:]
			continue
		case '"', '`':
			end := quotedEnd(line)
			if end < 0 {
				return toks
			}
			s, err := strconv.Unquote(line[:end])
			if err != nil {
				return toks
			}
			toks = append(toks, s)
			line = line[end:]
			continue
		}
		end := strings.IndexAny(line, " \t\r\n()")
		if end < 0 {
			end = len(line)
		}
		if c := strings.Index(line[:end], "//"); c >= 0 {
			end = c
		}
		toks = append(toks, line[:end])
		line = line[end:]
	}
}

// quotedEnd returns the length of the quoted string at the start of s, or
// -1 if it does not end on this line.
func quotedEnd(s string) int {
	quote := s[0]
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case quote:
			return i + 1
		case '\\':
			if quote == '"' {
				i++
			}
		}
	}
	return -1
}
