package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestLowerLayersNameNoFlag: the packages below cli speak in their own
// API terms; only cli knows gotask's flags and command lines, and adds
// them to messages as hints (see hint). A string literal in runner/, responder/, task/ or
// output/ naming one of gotask's flags would tell a library user to pass
// a flag they do not have, and would go stale when cli renames it.
func TestLowerLayersNameNoFlag(t *testing.T) {
	var flags []string
	newCmdRoot(&Streams{}, &config{}, nil).Flags().VisitAll(func(f *pflag.Flag) {
		flags = append(flags, "--"+f.Name)
	})
	if len(flags) < 10 {
		t.Fatalf("found only %d flags: %v", len(flags), flags)
	}
	fset := token.NewFileSet()
	scanned := 0
	for _, dir := range []string{"../runner", "../responder", "../task", "../output"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			scanned++
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				if strings.Contains(s, "gotask -") {
					t.Errorf("%s: string %s tells how to run gotask; return a typed error and let cli's hint say it",
						fset.Position(lit.Pos()), lit.Value)
				}
				for _, flag := range flags {
					if containsFlag(s, flag) {
						t.Errorf("%s: string %s names gotask's flag %s; return a typed error and let cli's hint name the flag",
							fset.Position(lit.Pos()), lit.Value, flag)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if scanned < 20 {
		t.Fatalf("scanned only %d files; is the working directory cli/?", scanned)
	}
}

// containsFlag reports whether s holds flag as a whole word: --file but
// not --files or --file-mode.
func containsFlag(s, flag string) bool {
	for {
		i := strings.Index(s, flag)
		if i < 0 {
			return false
		}
		s = s[i+len(flag):]
		if s == "" || !(s[0] == '-' || s[0] == '_' || s[0] >= 'a' && s[0] <= 'z' || s[0] >= '0' && s[0] <= '9') {
			return true
		}
	}
}
