package gobuild

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// DirName is the name of the directory, beside tasks.toml, that holds a
// project's Go tasks.
const DirName = "gotasks"

// Find reports whether dir has a gotasks/ subdirectory holding a main
// package: at least one .go file, other than a _test.go file, whose package
// clause says "package main". It returns that subdirectory's path. Files
// whose names start with "." or "_" are ignored, as go build ignores them;
// build constraints are not evaluated, and a file that does not parse is
// skipped (go build will report it).
func Find(dir string) (pkgDir string, ok bool) {
	pkgDir = filepath.Join(dir, DirName)
	entries, err := os.ReadDir(pkgDir)
	if err != nil {
		return "", false
	}
	br := bufio.NewReader(nil)
	for _, e := range entries {
		name := e.Name()
		if !isGoSource(name) || e.IsDir() {
			continue
		}
		if packageName(filepath.Join(pkgDir, name), br) == "main" {
			return pkgDir, true
		}
	}
	return "", false
}

// packageName returns the name in the package clause of the Go file at
// path, read through br, or "" if it has none that can be read. It reads
// with the scanner of the import declarations rather than go/parser,
// which would add its package initialisation to every start of gotask.
func packageName(path string, br *bufio.Reader) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	br.Reset(f)
	s := &importScanner{r: br}
	if strings.TrimPrefix(s.next(), "\ufeff") != "package" {
		return ""
	}
	if name := s.next(); isIdent(name) {
		return name
	}
	return ""
}

// isGoSource reports whether go build would compile a file with this name
// into a package (build constraints aside).
func isGoSource(name string) bool {
	return strings.HasSuffix(name, ".go") &&
		!strings.HasSuffix(name, "_test.go") &&
		!strings.HasPrefix(name, ".") &&
		!strings.HasPrefix(name, "_")
}
