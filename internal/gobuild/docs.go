package gobuild

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// DocsFile is the name of the file, beside a binary in the cache, that
// holds the doc comments of the top-level functions of the gotasks
// package it was built from: a JSON object from the function's name as
// the runtime spells it ("main.Deploy") to its doc comment's text. A Go
// task without help takes its function's.
const DocsFile = "gotasks.docs.json"

// funcDocs returns the doc comments of the top-level functions of the
// package in pkgDir, keyed as in DocsFile. Files that do not parse are
// skipped: the package compiled, so go build saw none, or left them out
// by their build constraints.
func funcDocs(pkgDir string) map[string]string {
	entries, err := os.ReadDir(pkgDir)
	if err != nil {
		return nil
	}
	docs := make(map[string]string)
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !isGoSource(e.Name()) {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(pkgDir, e.Name()), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil || f.Name.Name != "main" {
			continue
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Doc == nil {
				continue
			}
			if text := strings.TrimSpace(fn.Doc.Text()); text != "" {
				docs["main."+fn.Name.Name] = text
			}
		}
	}
	return docs
}

// writeDocs writes the doc comments of the package in pkgDir into dir.
// Doc comments are a convenience: failing to write them is ignored.
func writeDocs(pkgDir, dir string) {
	data, err := json.Marshal(funcDocs(pkgDir))
	if err != nil {
		return
	}
	writeAtomic(filepath.Join(dir, DocsFile), data)
}
