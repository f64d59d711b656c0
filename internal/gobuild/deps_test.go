package gobuild

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// project returns the files of a project, laid out under one root, whose
// gotasks package imports three kinds of local package: lib (and,
// through it, internal/deep) from its own module, example.com/dep from a
// directory that go.mod replaces it with, and example.com/wdep from a
// module that is local only when go.work uses it. greeting is what lib
// says.
func project(greeting string) map[string]string {
	return map[string]string{
		"tasks/go.mod": "module example.com/tasks\n\ngo 1.26\n\n" +
			"require example.com/dep v0.0.0\n\n" +
			"replace example.com/dep => ../dep\n",
		"tasks/gotasks/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n" +
			"\t\"example.com/dep\"\n\t\"example.com/tasks/lib\"\n\t\"example.com/wdep\"\n)\n\n" +
			"func main() { fmt.Println(lib.Greeting, dep.Name, wdep.Name) }\n",
		"tasks/lib/lib.go":            "package lib\n\nimport \"example.com/tasks/internal/deep\"\n\nvar Greeting = \"" + greeting + "\" + deep.Suffix\n",
		"tasks/lib/lib_test.go":       "package lib\n",
		"tasks/lib/sub/sub.go":        "package sub\n",
		"tasks/internal/deep/deep.go": "package deep\n\nconst Suffix = \"!\"\n",
		"tasks/other/other.go":        "package other\n",
		"dep/go.mod":                  "module example.com/dep\n\ngo 1.26\n",
		"dep/dep.go":                  "package dep\n\nconst Name = \"dep\"\n",
		"dep/unused/unused.go":        "package unused\n",
		"wdep/go.mod":                 "module example.com/wdep\n\ngo 1.26\n",
		"wdep/wdep.go":                "package wdep\n\nconst Name = \"wdep\"\n",
	}
}

const goWork = "go 1.26\n\nuse (\n\t./tasks\n\t./wdep\n)\n"

func TestSourceHashLocalPackages(t *testing.T) {
	touch := func(name string) func(*testing.T, string) {
		return func(t *testing.T, dir string) {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(dir, name), later, later); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name       string
		work       bool // add go.work using tasks/ and wdep/
		change     func(t *testing.T, dir string)
		wantChange bool
	}{
		{"nothing", false, func(*testing.T, string) {}, false},
		{"edit an imported package", false, edit("tasks/lib/lib.go", "package lib\n\nvar Greeting = \"bye\"\n"), true},
		{"touch an imported package", false, touch("tasks/lib/lib.go"), true},
		{"add a file to an imported package", false, edit("tasks/lib/more.go", "package lib\n"), true},
		{"add a file to embed in an imported package", false, edit("tasks/lib/banner.txt", "hi"), true},
		{"edit a package imported through another", false, edit("tasks/internal/deep/deep.go", "package deep\n\nconst Suffix = \"?!\"\n"), true},
		{"edit a replacement module", false, edit("dep/dep.go", "package dep\n\nconst Name = \"dep2\"\n"), true},
		{"edit the go.mod of a replacement module", false, edit("dep/go.mod", "module example.com/dep\n\ngo 1.26.1\n"), true},
		{"edit a workspace module", true, edit("wdep/wdep.go", "package wdep\n\nconst Name = \"wdep2\"\n"), true},
		{"edit a test of an imported package", false, edit("tasks/lib/lib_test.go", "package lib\n\nvar x = 1\n"), false},
		{"edit a package below an imported one", false, edit("tasks/lib/sub/sub.go", "package sub\n\nvar x = 1\n"), false},
		{"edit a package nothing imports", false, edit("tasks/other/other.go", "package other\n\nvar x = 1\n"), false},
		{"edit an unimported package of a replacement", false, edit("dep/unused/unused.go", "package unused\n\nvar x = 1\n"), false},
		{"edit a module outside the workspace", false, edit("wdep/wdep.go", "package wdep\n\nconst Name = \"wdep2\"\n"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOWORK", "")
			dir := t.TempDir()
			writeFiles(t, dir, project("hello"))
			if tt.work {
				writeFiles(t, dir, map[string]string{"go.work": goWork})
			}
			pkgDir := filepath.Join(dir, "tasks", "gotasks")
			memo := filepath.Join(t.TempDir(), "memo")
			before, err := sourceHash(pkgDir, loadMemo(memo), "")
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, dir)
			after, err := sourceHash(pkgDir, loadMemo(memo), "")
			if err != nil {
				t.Fatal(err)
			}
			if changed := before != after; changed != tt.wantChange {
				t.Errorf("hash changed = %v, want %v", changed, tt.wantChange)
			}
			// The memo saves reading files; it must not change the hash.
			if noMemo, err := sourceHash(pkgDir, loadMemo(""), ""); err != nil || noMemo != after {
				t.Errorf("hash without a memo = %s, %v; with one %s", noMemo, err, after)
			}
		})
	}
}

func TestLocalPackagesVisitsEachOnce(t *testing.T) {
	// a imports b and c, which both import d (a diamond), and d imports a
	// back (a cycle go build rejects, but which must not loop forever).
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a/a.go":      "package a\n\nimport (\n\t\"example.com/m/c\"\n\t\"example.com/m/b\"\n\t\"fmt\"\n)\n",
		"b/b.go":      "package b\n\nimport \"example.com/m/d\"\n",
		"c/c.go":      "package c\n\nimport \"example.com/m/d\"\n",
		"c/c2.go":     "package c\n\nimport (\n\t\"example.com/m/d\"\n\t\"example.com/m/b\"\n)\n",
		"d/d.go":      "package d\n\nimport \"example.com/m/a\"\n",
		"d/d2.go":     "package d\n\nimport \"example.com/m/gone\"\n",
		"x/x.go":      "package x\n",
		"a/a_test.go": "package a\n\nimport \"example.com/m/x\"\n",
	})
	mods := []localModule{{"example.com/m", dir}}
	memo := loadMemo("")
	pkgs, err := localPackages(mods, []string{"os", "example.com/m/a", "example.com/m/a"}, memo)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.path)
	}
	want := []string{"example.com/m/a", "example.com/m/b", "example.com/m/c", "example.com/m/d", "example.com/m/gone"}
	if !slices.Equal(got, want) {
		t.Errorf("visited %q, want %q", got, want)
	}
	if last := pkgs[len(pkgs)-1]; !last.missing {
		t.Errorf("package %s, which has no directory, is not marked missing", last.path)
	}
	if memo.reads != 6 {
		t.Errorf("read %d files, want each of the 6 Go files once", memo.reads)
	}
}

func TestImportMemo(t *testing.T) {
	t.Setenv("GOWORK", "")
	dir := t.TempDir()
	writeFiles(t, dir, project("hello"))
	pkgDir := filepath.Join(dir, "tasks", "gotasks")
	memoFile := filepath.Join(t.TempDir(), "imports", "memo")

	// Each step hashes with the memo file as the step before left it,
	// counting the files whose imports it had to read.
	steps := []struct {
		name      string
		change    func(t *testing.T, dir string)
		wantReads int
	}{
		{"no memo yet: read lib, deep and dep", func(*testing.T, string) {}, 3},
		{"nothing changed: read none", func(*testing.T, string) {}, 0},
		{
			"edit lib to import other: read lib, then other",
			edit("tasks/lib/lib.go", "package lib\n\nimport (\n\t_ \"example.com/tasks/internal/deep\"\n\t_ \"example.com/tasks/other\"\n)\n"),
			2,
		},
		{"edit other, walked now: read it", edit("tasks/other/other.go", "package other\n\nvar x = 1\n"), 1},
		{
			"a corrupt memo: read all",
			func(t *testing.T, _ string) {
				if err := os.WriteFile(memoFile, []byte(memoHeader+"12 not-a-time \"x\"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			4,
		},
		{"the memo was rewritten: read none", func(*testing.T, string) {}, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t, dir)
			memo := loadMemo(memoFile)
			got, err := sourceHash(pkgDir, memo, "")
			if err != nil {
				t.Fatal(err)
			}
			if memo.reads != st.wantReads {
				t.Errorf("read the imports of %d files, want %d", memo.reads, st.wantReads)
			}
			if want, err := sourceHash(pkgDir, loadMemo(""), ""); err != nil || got != want {
				t.Errorf("hash with the memo %s, without %s (%v)", got, want, err)
			}
		})
	}
}
