package fingerprint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// fileStat is what the fast path compares to decide that a file need not
// be read again: size, modification and change time (ns) and inode.
type fileStat struct {
	size, mtime, ctime int64
	ino                uint64
	regular            bool
}

// sameStat reports whether two stats describe the same file state.
func sameStat(a, b *fileStat) bool {
	return a.size == b.size && a.mtime == b.mtime && a.ctime == b.ctime && a.ino == b.ino
}

// An entry is one source file.
type entry struct {
	path  string // slash-separated, relative to the task directory
	st    fileStat
	sum   [32]byte // SHA-256 of the contents, when known
	known bool
	gone  bool // vanished while being hashed
}

// A compiled spec.
type compiled struct {
	dir            string // absolute
	inc, exc       []*pattern
	genInc, genExc []*pattern
	gitignore      bool
	def            [32]byte // SHA-256 of Spec.Definition
}

// compilePatterns splits globs into includes and "!" excludes.
func compilePatterns(field string, globs []string) (inc, exc []*pattern, err error) {
	for _, g := range globs {
		neg := strings.HasPrefix(g, "!")
		p, err := compilePattern(strings.TrimPrefix(g, "!"))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", field, err)
		}
		p.raw = g
		if neg {
			exc = append(exc, p)
		} else {
			inc = append(inc, p)
		}
	}
	return inc, exc, nil
}

// A walker collects the source files of a compiled spec.
type walker struct {
	ctx   context.Context
	c     *compiled
	skip  string // the state directory, never walked
	base  string // filepath.Base(skip)
	ig    ignoreSet
	files []entry
}

// walkSources returns the source files of c in canonical order (see
// cmpPath), with their stat but no sums. skip is a directory never to
// enter (the state directory).
func walkSources(ctx context.Context, c *compiled, skip string) ([]entry, error) {
	w := &walker{ctx: ctx, c: c, skip: skip, base: filepath.Base(skip)}
	if len(c.inc) == 0 {
		return nil, nil
	}
	var ign []state
	if c.gitignore {
		var err error
		if ign, err = w.ig.ancestors(c.dir); err != nil {
			return nil, fmt.Errorf("reading .gitignore files above %s: %w", c.dir, err)
		}
	}
	if err := w.walkDir(c.dir, "", startStates(c.inc), startStates(c.exc), ign); err != nil {
		return nil, err
	}
	return w.files, nil
}

// readDir reads a directory's entries, sorted by name, and returns the
// open directory too, for statAt. The caller closes it.
func readDir(abs string) (*os.File, []os.DirEntry, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, nil, err
	}
	ents, err := f.ReadDir(-1)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	slices.SortFunc(ents, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return f, ents, nil
}

// walkDir walks the directory abs, whose path relative to the task
// directory is rel ("" for the task directory), given the states of the
// include, exclude and ignore automata there.
func (w *walker) walkDir(abs, rel string, inc, exc, ign []state) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	f, ents, err := readDir(abs)
	if err != nil {
		return fmt.Errorf("reading source directory: %w", err)
	}
	defer f.Close()
	if w.c.gitignore {
		if i, ok := slices.BinarySearchFunc(ents, ".gitignore", func(e os.DirEntry, n string) int {
			return strings.Compare(e.Name(), n)
		}); ok && !ents[i].IsDir() {
			data, err := readIfExists(filepath.Join(abs, ".gitignore"))
			if err != nil {
				return err
			}
			ign = w.ig.add(slices.Clip(ign), data)
		}
	}
	prefix := rel
	if prefix != "" {
		prefix += "/"
	}
	for _, e := range ents {
		name := e.Name()
		typ := e.Type()
		if w.c.gitignore && name == ".git" {
			continue // a repository, or a worktree's link to one
		}
		switch {
		case typ.IsDir():
			if name == w.base && filepath.Join(abs, name) == w.skip {
				continue
			}
			ninc := step(nil, w.c.inc, inc, name)
			if !live(w.c.inc, ninc) {
				continue
			}
			if completes(w.c.exc, exc, name, nil) >= 0 || w.ig.ignored(ign, name, true) {
				continue
			}
			nexc := step(nil, w.c.exc, exc, name)
			var nign []state
			if len(ign) > 0 {
				nign = step(nil, w.ig.pats, ign, name)
			}
			if err := w.walkDir(filepath.Join(abs, name), prefix+name, ninc, nexc, nign); err != nil {
				return err
			}
		case typ.IsRegular() || typ&fs.ModeSymlink != 0:
			if completes(w.c.inc, inc, name, nil) < 0 ||
				completes(w.c.exc, exc, name, nil) >= 0 ||
				w.ig.ignored(ign, name, false) {
				continue
			}
			st, err := statAt(f, abs, name, !typ.IsRegular())
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
					continue // deleted since ReadDir, or a dangling link
				}
				return err
			}
			if !st.regular {
				continue // a link to a directory or a device: not a source
			}
			w.files = append(w.files, entry{path: prefix + name, st: st})
		}
	}
	return nil
}

// cmpPath orders slash-separated paths element by element, which is the
// order of a walk that visits each directory's entries by name: "a/b"
// comes before "a.go". It is strings.Compare with '/' below every byte.
func cmpPath(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		if ca < cb {
			return -1
		}
		return 1
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// missingGenerates returns a reason for each generates pattern that
// matches no existing file or directory.
func missingGenerates(ctx context.Context, c *compiled) ([]string, error) {
	var reasons []string
	var globs []*pattern
	for _, p := range c.genInc {
		if !p.literal() {
			globs = append(globs, p)
			continue
		}
		rel := p.literalPath()
		if excludedPath(c.genExc, rel) {
			reasons = append(reasons, rel+" (generated) is missing")
			continue
		}
		_, err := os.Stat(filepath.Join(c.dir, filepath.FromSlash(rel)))
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			reasons = append(reasons, rel+" (generated) is missing")
		case err != nil:
			return nil, fmt.Errorf("checking generated file: %w", err)
		}
	}
	if len(globs) == 0 {
		return reasons, nil
	}
	g := &genWalker{ctx: ctx, inc: globs, exc: c.genExc, hit: make([]bool, len(globs)), left: len(globs)}
	if err := g.walk(c.dir, startStates(globs), startStates(c.genExc)); err != nil && err != errAllFound {
		return nil, err
	}
	for i, p := range globs {
		if !g.hit[i] {
			reasons = append(reasons, p.raw+" (generated) matches nothing")
		}
	}
	return reasons, nil
}

// excludedPath reports whether rel or one of its parent directories
// matches one of the exclude patterns.
func excludedPath(exc []*pattern, rel string) bool {
	set := startStates(exc)
	for _, el := range strings.Split(rel, "/") {
		if completes(exc, set, el, nil) >= 0 {
			return true
		}
		set = step(nil, exc, set, el)
	}
	return false
}

var errAllFound = errors.New("all generates patterns matched")

// A genWalker looks for one match of each glob of Spec.Generates.
type genWalker struct {
	ctx      context.Context
	inc, exc []*pattern
	hit      []bool
	left     int
}

func (g *genWalker) walk(abs string, inc, exc []state) error {
	if err := g.ctx.Err(); err != nil {
		return err
	}
	f, ents, err := readDir(abs)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking for generated files: %w", err)
	}
	f.Close()
	for _, e := range ents {
		name := e.Name()
		if completes(g.exc, exc, name, nil) >= 0 {
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			if _, err := os.Stat(filepath.Join(abs, name)); err != nil {
				continue // dangling
			}
		}
		for _, s := range inc {
			pat := g.inc[s.p]
			if g.hit[s.p] || int(s.i) >= len(pat.segs) {
				continue
			}
			seg := pat.segs[s.i]
			if (seg.kind == segDoubleStar && pat.done[s.i]) || (seg.kind != segDoubleStar && pat.done[s.i+1] && seg.match(name)) {
				g.hit[s.p] = true
				if g.left--; g.left == 0 {
					return errAllFound
				}
			}
		}
		if !e.IsDir() {
			continue
		}
		ninc := step(nil, g.inc, inc, name)
		ninc = slices.DeleteFunc(ninc, func(s state) bool { return g.hit[s.p] })
		if !live(g.inc, ninc) {
			continue
		}
		if err := g.walk(filepath.Join(abs, name), ninc, step(nil, g.exc, exc, name)); err != nil {
			return err
		}
	}
	return nil
}
