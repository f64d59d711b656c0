package gobuild

import (
	"go/parser"
	"go/token"
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
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !isGoSource(name) || e.IsDir() {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(pkgDir, name), nil, parser.PackageClauseOnly)
		if err == nil && f.Name.Name == "main" {
			return pkgDir, true
		}
	}
	return "", false
}

// isGoSource reports whether go build would compile a file with this name
// into a package (build constraints aside).
func isGoSource(name string) bool {
	return strings.HasSuffix(name, ".go") &&
		!strings.HasSuffix(name, "_test.go") &&
		!strings.HasPrefix(name, ".") &&
		!strings.HasPrefix(name, "_")
}
