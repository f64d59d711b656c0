package fingerprint

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A Spec says what a task reads and writes. Patterns are described at
// Match; a pattern starting with "!" excludes what it matches, and
// everything below a directory it matches, whatever the order of the
// patterns.
type Spec struct {
	// Dir is the task's directory; patterns are relative to it. The zero
	// value is the current directory.
	Dir string

	// Sources are the globs of the files the task reads. Their paths
	// (relative to Dir) and contents make the fingerprint. Directories are
	// never sources themselves: write "dir/**" for a whole tree. Nil means
	// no files: the fingerprint is the definition alone.
	Sources []string

	// Generates are the globs of what the task writes. The task is out of
	// date while one of them matches no existing file or directory. Nil
	// means nothing is checked.
	Generates []string

	// UseGitignore skips the sources that git would ignore (see the
	// package documentation for what is and is not understood), and any
	// .git directory. False (the zero value) takes every match.
	UseGitignore bool

	// Definition is opaque to this package: the caller's encoding of the
	// task's definition and argument values. Any change makes the task out
	// of date. Nil and empty are the same.
	Definition []byte
}

// A Store keeps the fingerprints recorded after successful runs, one
// file per key in a state directory. Keys may hold secrets (argument
// values): a state file is named by, and holds, a hash of its key only,
// and the directory is for its owner only (mode 0700). Deleting the directory, or any file
// in it, is safe: the tasks concerned are then out of date. A Store is
// safe for concurrent use, by goroutines and by processes sharing the
// directory.
type Store struct {
	// Dir is the state directory. It is created, with mode 0700, by the
	// first Record; Record also takes group and other permissions away
	// from an existing one.
	// The walk of the sources never enters it, so a task's sources may
	// include it without becoming out of date at every run.
	Dir string
}

// Status is the result of Store.Check.
type Status struct {
	// UpToDate reports whether the task can be skipped: every generates
	// pattern matches something and the fingerprint of the sources and
	// definition equals the one recorded after the last successful run.
	UpToDate bool

	// Reasons say why the task is out of date, for people ("src/a.go
	// changed", "definition changed", ...): at most five, then "and N
	// more". Empty when UpToDate.
	Reasons []string

	// Sources is the number of source files found.
	Sources int

	// Hashed is the number of source files Check read; files whose size,
	// times and inode match the record are not read.
	Hashed int

	key     string // keyID of the key
	c       *compiled
	skip    string    // absolute state directory
	started time.Time // when Check began
	files   []entry   // the sources as Check saw them
}

// String returns "up to date", or the reasons joined by "; ".
func (st *Status) String() string {
	if st.UpToDate {
		return "up to date"
	}
	return strings.Join(st.Reasons, "; ")
}

// maxReasons is how many reasons a Status lists before "and N more".
const maxReasons = 5

// Check reports whether the task identified by key (for example its name
// and argument values; any string) is up to date with respect to spec.
// It walks the sources, reads only the files whose stat information
// differs from the record, and compares the fingerprint with the one
// recorded by the last Record for key.
//
// When the task is up to date but some files had to be read again (they
// were touched without being changed), Check refreshes their recorded
// stat information, so that the next Check does not read them; an error
// doing so is ignored. Check does not otherwise write.
//
// A malformed pattern, an unreadable source directory or file, or an
// unreadable state directory is an error. A state file that cannot be
// parsed is not: it is reported as a reason.
func (s *Store) Check(ctx context.Context, key string, spec *Spec) (*Status, error) {
	c, err := compileSpec(spec)
	if err != nil {
		return nil, err
	}
	skip, err := filepath.Abs(s.Dir)
	if err != nil {
		return nil, err
	}
	id := keyID(key)
	st := &Status{key: id, c: c, skip: skip, started: time.Now()}
	old, err := s.load(id)
	var corrupt error
	if errors.Is(err, errCorrupt) {
		corrupt, old = err, nil
	} else if err != nil {
		return nil, err
	}
	files, err := walkSources(ctx, c, skip)
	if err != nil {
		return nil, err
	}
	missing, err := missingGenerates(ctx, c)
	if err != nil {
		return nil, err
	}

	var reasons []string
	switch {
	case corrupt != nil:
		reasons = append(reasons, fmt.Sprintf("no usable record of a previous run (%v)", corrupt))
	case old == nil:
		reasons = append(reasons, "no record of a previous run")
	case old.def != c.def:
		reasons = append(reasons, "definition changed")
	}
	reasons = append(reasons, missing...)
	if old != nil {
		var diffs []string
		files, diffs, st.Hashed, err = compare(ctx, c.dir, old, files)
		if err != nil {
			return nil, err
		}
		reasons = append(reasons, diffs...)
		if len(reasons) == 0 && fingerprintOf(c.def, files) != old.sum {
			reasons = append(reasons, "sources changed") // only if the state was written by another version
		}
	}
	st.files = files
	st.Sources = len(files)
	if len(reasons) > maxReasons {
		reasons = append(reasons[:maxReasons], fmt.Sprintf("and %d more", len(reasons)-maxReasons))
	}
	st.Reasons = reasons
	st.UpToDate = len(reasons) == 0
	if st.UpToDate && st.Hashed > 0 {
		_ = s.save(&record{key: id, def: c.def, sum: old.sum, files: files}) // best effort
	}
	return st, nil
}

// compare matches the files found by a walk against a record, taking
// the sums of the files whose stat is unchanged from the record and
// hashing the others. It returns the files without those that vanished,
// a reason for each difference, and the number of files hashed. Files
// not in the record are not hashed (Record will).
func compare(ctx context.Context, dir string, old *record, files []entry) ([]entry, []string, int, error) {
	type diff struct{ path, what string }
	var (
		diffs []diff
		todo  []int // indexes in files, to hash
		pair  []int // the matching indexes in old.files
	)
	i, j := 0, 0
	for i < len(old.files) || j < len(files) {
		var c int
		switch {
		case i == len(old.files):
			c = 1
		case j == len(files):
			c = -1
		default:
			c = cmpPath(old.files[i].path, files[j].path)
		}
		switch {
		case c < 0:
			diffs = append(diffs, diff{old.files[i].path, "removed"})
			i++
		case c > 0:
			diffs = append(diffs, diff{files[j].path, "added"})
			j++
		default:
			o, n := &old.files[i], &files[j]
			// An entry modified no earlier than the state file was written
			// may have changed again within the clock's resolution
			// without its stat changing: it is read again ("racily clean"
			// in git's terms).
			if sameStat(&o.st, &n.st) && o.st.mtime < old.mtime {
				n.sum, n.known = o.sum, true
			} else {
				todo = append(todo, j)
				pair = append(pair, i)
			}
			i++
			j++
		}
	}
	if err := hashFiles(ctx, dir, files, todo); err != nil {
		return nil, nil, 0, err
	}
	for k, j := range todo {
		switch n := &files[j]; {
		case n.gone:
			diffs = append(diffs, diff{n.path, "removed"})
		case n.sum != old.files[pair[k]].sum:
			diffs = append(diffs, diff{n.path, "changed"})
		}
	}
	files = slices.DeleteFunc(files, func(e entry) bool { return e.gone })
	slices.SortStableFunc(diffs, func(a, b diff) int { return cmpPath(a.path, b.path) })
	reasons := make([]string, len(diffs))
	for k, d := range diffs {
		reasons[k] = d.path + " " + d.what
	}
	return files, reasons, len(todo), nil
}

// racyMargin is how recently before Check a file may have been modified
// for Record to trust the sum Check took of it when its stat has not
// changed since; it covers file systems with coarse timestamps.
const racyMargin = 2 * time.Second

// Record records the fingerprint of a successful run of the task that
// st, returned by Check, is about. Call it after the run, not in place
// of it.
//
// Record takes the sources as they are after the run, not as Check saw
// them: a task that formats or generates some of its own sources is then
// up to date after one run, as with go-task. The cost is a second walk;
// only the files whose stat changed since Check are read again. The
// price of that choice is that an edit made by someone else while the
// task runs is recorded as if the run had seen it.
func (s *Store) Record(ctx context.Context, st *Status) error {
	if st == nil || st.c == nil {
		return errors.New("recording state: the Status does not come from Check")
	}
	files, err := walkSources(ctx, st.c, st.skip)
	if err != nil {
		return err
	}
	trustBefore := st.started.Add(-racyMargin).UnixNano()
	var todo []int
	i := 0
	for j := range files {
		n := &files[j]
		for i < len(st.files) && cmpPath(st.files[i].path, n.path) < 0 {
			i++
		}
		if i < len(st.files) && st.files[i].path == n.path {
			if o := &st.files[i]; o.known && sameStat(&o.st, &n.st) && o.st.mtime < trustBefore {
				n.sum, n.known = o.sum, true
				continue
			}
		}
		todo = append(todo, j)
	}
	if err := hashFiles(ctx, st.c.dir, files, todo); err != nil {
		return err
	}
	files = slices.DeleteFunc(files, func(e entry) bool { return e.gone })
	return s.save(&record{key: st.key, def: st.c.def, sum: fingerprintOf(st.c.def, files), files: files})
}

// compileSpec checks and compiles a Spec.
func compileSpec(spec *Spec) (*compiled, error) {
	if spec == nil {
		return nil, errors.New("checking task: no Spec")
	}
	dir := spec.Dir
	if dir == "" {
		dir = "."
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &compiled{dir: dir, gitignore: spec.UseGitignore, def: sha256.Sum256(spec.Definition)}
	if c.inc, c.exc, err = compilePatterns("sources", spec.Sources); err != nil {
		return nil, err
	}
	if c.genInc, c.genExc, err = compilePatterns("generates", spec.Generates); err != nil {
		return nil, err
	}
	return c, nil
}

// fingerprintOf returns the fingerprint: SHA-256 over a version string,
// the definition's hash, then each file's path (length-prefixed) and
// content hash, in cmpPath order. A renamed file changes it.
func fingerprintOf(def [32]byte, files []entry) [32]byte {
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, "gotask fingerprint 1\n"...)
	buf = append(buf, def[:]...)
	for i := range files {
		if len(buf) > 60<<10 {
			h.Write(buf)
			buf = buf[:0]
		}
		e := &files[i]
		buf = binary.AppendUvarint(buf, uint64(len(e.path)))
		buf = append(buf, e.path...)
		buf = append(buf, e.sum[:]...)
	}
	h.Write(buf)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}
