package gobuild

import (
	"bufio"
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// memoHeader starts every import memo file; change it with the format.
const memoHeader = "gotask/gobuild imports 1\n"

// importMemo remembers the imports of the Go files of local packages,
// keyed by path, size and modification time, so that a cached check reads
// no file whose size and modification time are the same as on the run
// before: it costs a stat per file instead of an open and a read. A file
// that changes without changing either is missed by the source hash
// anyway.
//
// The memo is kept in one file per gotasks directory, rewritten whole
// (through a rename, so readers never see half of it) after a walk that
// found something new. It is only a cache: a missing, unreadable or
// malformed memo file means reading the files, and failing to write one
// is ignored.
type importMemo struct {
	file    string // where the memo is kept; "" keeps none
	old     map[string]memoEntry
	new     map[string]memoEntry
	changed bool // new has entries that old lacks or holds differently
	reads   int  // files whose headers were read; for tests
}

type memoEntry struct {
	size, modTime int64
	imports       []string
}

// loadMemo returns the memo kept in file, which is "" for none.
func loadMemo(file string) *importMemo {
	m := &importMemo{file: file, new: make(map[string]memoEntry)}
	if file == "" {
		return m
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return m
	}
	rest, ok := bytes.CutPrefix(data, []byte(memoHeader))
	if !ok {
		return m
	}
	m.old = make(map[string]memoEntry)
	for line := range strings.Lines(string(rest)) {
		path, e, ok := parseMemoLine(strings.TrimSuffix(line, "\n"))
		if !ok {
			m.old = nil // not written by this code: trust none of it
			return m
		}
		m.old[path] = e
	}
	return m
}

// imports returns the import paths of the Go file at path, whose size and
// modification time are given, from the memo or else from the file
// itself, read through br.
func (m *importMemo) imports(path string, size, modTime int64, br *bufio.Reader) ([]string, error) {
	e, ok := m.old[path]
	if !ok || e.size != size || e.modTime != modTime {
		imports, err := fileImports(path, br)
		if err != nil {
			return nil, err
		}
		m.reads++
		m.changed = true
		e = memoEntry{size: size, modTime: modTime, imports: imports}
	}
	m.new[path] = e
	return e.imports, nil
}

// save writes the memo back to its file if the walk that used it found a
// file it did not know or no longer found one it knew.
func (m *importMemo) save() {
	if m.file == "" || (!m.changed && len(m.new) == len(m.old)) {
		return
	}
	var b []byte
	b = append(b, memoHeader...)
	for _, path := range slices.Sorted(maps.Keys(m.new)) {
		e := m.new[path]
		b = strconv.AppendInt(b, e.size, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, e.modTime, 10)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, path)
		for _, imp := range e.imports {
			b = append(b, ' ')
			b = strconv.AppendQuote(b, imp)
		}
		b = append(b, '\n')
	}
	dir := filepath.Dir(m.file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".imports-*")
	if err != nil {
		return
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), m.file)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
}

// parseMemoLine parses `size modTime "path" "import"...`.
func parseMemoLine(line string) (path string, e memoEntry, ok bool) {
	size, line, _ := strings.Cut(line, " ")
	modTime, line, _ := strings.Cut(line, " ")
	var err1, err2 error
	e.size, err1 = strconv.ParseInt(size, 10, 64)
	e.modTime, err2 = strconv.ParseInt(modTime, 10, 64)
	if err1 != nil || err2 != nil {
		return "", e, false
	}
	for i := 0; line != ""; i++ {
		q, err := strconv.QuotedPrefix(line)
		if err != nil {
			return "", e, false
		}
		s := q[1 : len(q)-1]
		if strings.ContainsRune(s, '\\') {
			if s, err = strconv.Unquote(q); err != nil {
				return "", e, false
			}
		}
		if i == 0 {
			path = s
		} else {
			e.imports = append(e.imports, s)
		}
		line = strings.TrimPrefix(line[len(q):], " ")
	}
	return path, e, path != ""
}
