package fingerprint

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// An ignoreSet holds the .gitignore rules met so far in a walk, as
// patterns for the automaton. Rules are appended in precedence order
// (.git/info/exclude, then .gitignore files from the repository root
// down), so that of the rules matching a path the one with the highest
// index decides, as in git.
type ignoreSet struct {
	pats    []*pattern
	negate  []bool
	dirOnly []bool
}

// add parses a .gitignore file and returns the start states of its rules,
// which apply to paths relative to the directory holding the file.
// Malformed lines are skipped, as git skips them.
func (ig *ignoreSet) add(set []state, data []byte) []state {
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		p, negate, dirOnly, ok := parseIgnoreLine(string(line))
		if !ok {
			continue
		}
		ig.pats = append(ig.pats, p)
		ig.negate = append(ig.negate, negate)
		ig.dirOnly = append(ig.dirOnly, dirOnly)
		set = addState(set, ig.pats, int32(len(ig.pats)-1), 0)
	}
	return set
}

// parseIgnoreLine turns one line of a .gitignore file into a pattern.
func parseIgnoreLine(line string) (p *pattern, negate, dirOnly, ok bool) {
	line = strings.TrimSuffix(line, "\r")
	// Trailing spaces are dropped unless escaped with a backslash.
	for strings.HasSuffix(line, " ") && !strings.HasSuffix(line, `\ `) {
		line = line[:len(line)-1]
	}
	if line == "" || line[0] == '#' {
		return nil, false, false, false
	}
	if line[0] == '!' {
		negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if line == "" {
		return nil, false, false, false
	}
	// A slash at the start or in the middle anchors the pattern to the
	// directory of the .gitignore; otherwise it matches at any depth.
	anchored := strings.Contains(line, "/")
	line = strings.TrimLeft(line, "/")
	if !anchored {
		line = "**/" + line
	}
	// A trailing "/**" matches everything inside, but not the directory
	// itself: one or more elements.
	if strings.HasSuffix(line, "/**") {
		line += "/*"
	}
	p = &pattern{raw: line}
	for _, el := range strings.Split(line, "/") {
		if el == "" || el == "." {
			continue
		}
		if el == ".." {
			return nil, false, false, false
		}
		g, err := compileSegment(el)
		if err != nil {
			return nil, false, false, false
		}
		if g.kind == segDoubleStar && len(p.segs) > 0 && p.segs[len(p.segs)-1].kind == segDoubleStar {
			continue
		}
		p.segs = append(p.segs, g)
	}
	if len(p.segs) == 0 {
		return nil, false, false, false
	}
	p.finish()
	return p, negate, dirOnly, true
}

// ignored reports whether the entry name of the directory whose ignore
// states are set is ignored.
func (ig *ignoreSet) ignored(set []state, name string, isDir bool) bool {
	if len(set) == 0 {
		return false
	}
	p := completes(ig.pats, set, name, func(p int32) bool { return isDir || !ig.dirOnly[p] })
	return p >= 0 && !ig.negate[p]
}

// ancestors loads the rules that apply to dir from above it: the
// repository's .git/info/exclude and the .gitignore files of the
// directories from the repository root down to dir's parent. It returns
// dir's ignore states. Without a repository (no .git above dir), dir is
// taken as the root. dir itself is never taken as ignored.
func (ig *ignoreSet) ancestors(dir string) ([]state, error) {
	root, err := repoRoot(dir)
	if err != nil || root == "" {
		return nil, err
	}
	var set []state
	if data, err := readIfExists(filepath.Join(root, ".git", "info", "exclude")); err != nil {
		return nil, err
	} else {
		set = ig.add(set, data)
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return nil, err
	}
	cur := root
	var names []string
	if rel != "." {
		names = strings.Split(filepath.ToSlash(rel), "/")
	}
	for _, name := range names {
		data, err := readIfExists(filepath.Join(cur, ".gitignore"))
		if err != nil {
			return nil, err
		}
		set = ig.add(set, data)
		set = step(nil, ig.pats, set, name)
		cur = filepath.Join(cur, name)
	}
	return set, nil
}

// repoRoot returns the nearest directory at or above dir that holds a
// .git entry (a directory, or a file in a worktree or submodule), or "".
func repoRoot(dir string) (string, error) {
	for {
		_, err := os.Lstat(filepath.Join(dir, ".git"))
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// readIfExists reads a file, returning nothing if it does not exist.
func readIfExists(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	return data, err
}
