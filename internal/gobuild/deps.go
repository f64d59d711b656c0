package gobuild

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// localPackage is a package of a local module (see localModules) that the
// gotasks package imports, directly or through other such packages.
type localPackage struct {
	path    string // import path
	dir     string
	missing bool // dir does not exist
	files   []localFile
}

// localFile is a file directly in a local package's directory, other than
// a _test.go file or one whose name starts with ".", described by what
// os.Stat says of it.
type localFile struct {
	name    string
	size    int64
	modTime int64 // nanoseconds since the Unix epoch
}

// localPackages returns every package of mods that imports, the import
// paths of the gotasks package, lead to, transitively: each once, in the
// order a breadth-first walk meets them, taking each package's imports in
// sorted order, so that the same sources always give the same list.
// Imports of packages outside mods (the standard library, modules from
// the module cache) are not followed.
//
// A package's imports are read from the headers of its .go files other
// than _test.go files, whatever their build constraints say: a package
// that a constrained-out file imports is walked too, which can only
// cause an unneeded rebuild.
//
// The imports of a file come from memo when it knows the file at its
// current size and modification time.
func localPackages(mods []localModule, imports []string, memo *importMemo) ([]localPackage, error) {
	var (
		pkgs  []localPackage
		seen  = make(map[string]bool)
		queue = sortedUnique(imports)
		br    = bufio.NewReader(nil)
	)
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		dir, ok := resolve(mods, path)
		if !ok {
			continue
		}
		pkg, more, err := readPackage(path, dir, memo, br)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, pkg)
		queue = append(queue, more...)
	}
	return pkgs, nil
}

// readPackage describes the files of the package in dir and returns the
// packages its .go files import, sorted.
func readPackage(path, dir string, memo *importMemo, br *bufio.Reader) (localPackage, []string, error) {
	pkg := localPackage{path: path, dir: dir}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		// Not a local package after all (go build may find it in a
		// nested module), or one that does not exist yet.
		pkg.missing = true
		return pkg, nil, nil
	}
	if err != nil {
		return pkg, nil, fmt.Errorf("reading package %s: %w", path, err)
	}
	var imports []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		file := filepath.Join(dir, name)
		var fi fs.FileInfo
		if e.Type()&fs.ModeSymlink != 0 {
			fi, err = os.Stat(file) // go build follows a symlink to a file
		} else {
			fi, err = e.Info()
		}
		if err != nil || !fi.Mode().IsRegular() {
			continue // gone since ReadDir, a dangling link, or not a file
		}
		f := localFile{name: name, size: fi.Size(), modTime: fi.ModTime().UnixNano()}
		pkg.files = append(pkg.files, f)
		if !isGoSource(name) {
			continue
		}
		more, err := memo.imports(file, f.size, f.modTime, br)
		if err != nil {
			return pkg, nil, fmt.Errorf("reading the imports of package %s: %w", path, err)
		}
		imports = append(imports, more...)
	}
	return pkg, sortedUnique(imports), nil
}

// fileImports returns the import paths of the Go source file at path,
// reading it through br.
func fileImports(path string, br *bufio.Reader) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br.Reset(f)
	return readImports(br)
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
