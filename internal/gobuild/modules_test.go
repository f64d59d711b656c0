package gobuild

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLocalModules(t *testing.T) {
	const mainMod = "module example.com/tasks\n\ngo 1.26\n"
	tests := []struct {
		name  string
		files map[string]string // under the root; the main module is in tasks/
		want  []localModule     // dirs relative to the root
	}{
		{
			name:  "main module only",
			files: map[string]string{"tasks/go.mod": mainMod},
			want:  []localModule{{"example.com/tasks", "tasks"}},
		},
		{
			name: "replace directives",
			files: map[string]string{"tasks/go.mod": mainMod + `
require example.com/a v1.0.0 // indirect
replace example.com/a => ../a // a comment
replace (
	// a comment line
	example.com/b v1.2.3 => ./third_party/b
	"example.com/c" => "../c"
	example.com/remote => example.com/fork v1.0.0
	example.com/d => /abs/d
)
replace example.com/e => ../e v1.0.0
`},
			want: []localModule{
				{"example.com/tasks", "tasks"},
				{"example.com/a", "a"},
				{"example.com/b", "tasks/third_party/b"},
				{"example.com/c", "c"},
				{"example.com/d", "/abs/d"},
			},
		},
		{
			name: "a workspace",
			files: map[string]string{
				"tasks/go.mod": mainMod + "replace example.com/a => ../a\nreplace example.com/x => ../x-from-tasks\n",
				"go.work":      "go 1.26\n\nuse (\n\t./tasks\n\t./lib // the library\n\t./missing\n)\nuse ./tool\n\nreplace example.com/x => ./x-from-work\n",
				"lib/go.mod":   "module example.com/lib\n\nreplace example.com/b => ../b\n",
				"tool/go.mod":  "module \"example.com/tool\"\n",
			},
			want: []localModule{
				{"example.com/tasks", "tasks"},
				{"example.com/x", "x-from-work"},
				{"example.com/lib", "lib"},
				{"example.com/tool", "tool"},
				{"example.com/a", "a"},
				{"example.com/b", "b"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			gomod := filepath.Join(root, "tasks", "go.mod")
			modData := readTestFile(t, gomod)
			var work string
			var workData []byte
			if _, ok := tt.files["go.work"]; ok {
				work = filepath.Join(root, "go.work")
				workData = readTestFile(t, work)
			}
			got, err := localModules(sha256.New(), gomod, modData, work, workData)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tt.want)
			for i, m := range want {
				if !filepath.IsAbs(m.dir) {
					want[i].dir = filepath.Join(root, m.dir)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("localModules() =\n%v\nwant\n%v", got, want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	mods := []localModule{
		{"example.com/m", "/src/m"},
		{"example.com/m/nested", "/src/nested"},
	}
	tests := []struct {
		importPath string
		wantDir    string // "" for not local
	}{
		{"example.com/m", "/src/m"},
		{"example.com/m/lib/x", filepath.FromSlash("/src/m/lib/x")},
		{"example.com/m/nested/y", filepath.FromSlash("/src/nested/y")},
		{"example.com/m/nestedx", filepath.FromSlash("/src/m/nestedx")},
		{"example.com/mx", ""},
		{"fmt", ""},
	}
	for _, tt := range tests {
		dir, ok := resolve(mods, tt.importPath)
		if ok != (tt.wantDir != "") || dir != filepath.FromSlash(tt.wantDir) {
			t.Errorf("resolve(%q) = %q, %v; want %q", tt.importPath, dir, ok, tt.wantDir)
		}
	}
}

func TestDirectives(t *testing.T) {
	got := directives([]byte("module  \"x/y\" // c\n\nreplace (\n a => ./b\n)\nrequire (\n)\nexclude c v1 //comment\ngo 1.26//x\n"))
	want := [][]string{{"module", "x/y"}, {"replace", "a", "=>", "./b"}, {"exclude", "c", "v1"}, {"go", "1.26"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("directives() = %q, want %q", got, want)
	}
}

func readTestFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
