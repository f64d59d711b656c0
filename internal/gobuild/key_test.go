package gobuild

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// module returns the files of a project whose gotasks package prints
// greeting and its arguments.
func module(greeting string) map[string]string {
	return map[string]string{
		"go.mod": "module example.com/tasks\n\ngo 1.26\n",
		"gotasks/main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\n" +
			"func main() { fmt.Println(" + `"` + greeting + `"` + ", os.Args[1:]) }\n",
		"gotasks/greet.go": "package main\n\nfunc greet() string { return \"hi\" }\n",
	}
}

func TestSourceHash(t *testing.T) {
	tests := []struct {
		name       string
		change     func(t *testing.T, dir string)
		wantChange bool
	}{
		{"nothing", func(*testing.T, string) {}, false},
		{"edit a source file", edit("gotasks/main.go", "package main\n\nfunc main() {}\n"), true},
		{"add a source file", edit("gotasks/more.go", "package main\n"), true},
		{"add a file to embed", edit("gotasks/banner.txt", "hello"), true},
		{"add a file in a subdirectory", edit("gotasks/lib/lib.go", "package lib\n"), true},
		{"edit go.mod", edit("go.mod", "module example.com/tasks\n\ngo 1.26.1\n"), true},
		{"add go.sum", edit("go.sum", "example.org/x v1.0.0 h1:abc=\n"), true},
		{"add go.work", edit("go.work", "go 1.26\n\nuse .\n"), true},
		{"set GOFLAGS", func(t *testing.T, _ string) { t.Setenv("GOFLAGS", "-tags=extra") }, true},
		{"set GOARCH", func(t *testing.T, _ string) { t.Setenv("GOARCH", "riscv64") }, true},
		{"add a test file", edit("gotasks/main_test.go", "package main\n"), false},
		{"add a dot file", edit("gotasks/.swp", "x"), false},
		{"add a file in a dot directory", edit("gotasks/.cache/x.go", "package x\n"), false},
		{"edit a file outside gotasks", edit("README", "docs"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, module("hello"))
			pkgDir := filepath.Join(dir, "gotasks")
			before, err := sourceHash(pkgDir, loadMemo(""), "")
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, dir)
			after, err := sourceHash(pkgDir, loadMemo(""), "")
			if err != nil {
				t.Fatal(err)
			}
			if changed := before != after; changed != tt.wantChange {
				t.Errorf("hash changed = %v, want %v (%s -> %s)", changed, tt.wantChange, before, after)
			}
		})
	}
}

func edit(name, content string) func(*testing.T, string) {
	return func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{name: content}) }
}

func TestSourceHashFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, module("hello"))
	writeFiles(t, dir, map[string]string{"shared/extra.go": "package main\n"})
	pkgDir := filepath.Join(dir, "gotasks")
	if err := os.Symlink(filepath.Join(dir, "shared", "extra.go"), filepath.Join(pkgDir, "extra.go")); err != nil {
		t.Skipf("cannot create a symlink: %v", err)
	}
	before, err := sourceHash(pkgDir, loadMemo(""), "")
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"shared/extra.go": "package main\n\nvar x = 1\n"})
	after, err := sourceHash(pkgDir, loadMemo(""), "")
	if err != nil {
		t.Fatal(err)
	}
	if before == after {
		t.Error("editing the target of a symlinked source file left the hash unchanged")
	}
}

func TestSourceHashNeedsModule(t *testing.T) {
	dir := t.TempDir()
	files := module("hello")
	delete(files, "go.mod")
	writeFiles(t, dir, files)
	_, err := sourceHash(filepath.Join(dir, "gotasks"), loadMemo(""), "")
	if !errors.Is(err, ErrNoModule) {
		t.Fatalf("err = %v, want ErrNoModule", err)
	}
	for _, want := range []string{"run `go mod init", "in " + dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// fakeGo puts in a new directory a GOROOT whose bin/go is a shell script
// that appends a line to the returned log file and prints goVersion, and
// whose VERSION file holds versionFile (none if empty). It returns the bin
// directory and the log.
func fakeGo(t *testing.T, versionFile, goVersion string) (bin, log string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake go command is a shell script")
	}
	root := t.TempDir()
	log = filepath.Join(root, "go.log")
	files := map[string]string{
		"bin/go": "#!/bin/sh\necho \"$@\" >>'" + log + "'\necho '" + goVersion + "'\n",
	}
	if versionFile != "" {
		files["VERSION"] = versionFile
	}
	writeFiles(t, root, files)
	if err := os.Chmod(filepath.Join(root, "bin", "go"), 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "bin"), log
}

func TestToolchain(t *testing.T) {
	tests := []struct {
		name        string
		versionFile string
		symlink     bool // put a symlink to bin/go in PATH, not bin itself
		wantVersion string
		wantRunsGo  bool
	}{
		{"release", "go1.26.8\ntime 2026-08-28T16:20:06Z\n", false, "go1.26.8", false},
		{"release through a symlink", "go1.26.8\n", true, "go1.26.8", false},
		{"no VERSION file", "", false, "devel_go1.27-abc_Tue", true},
		{"VERSION names no version", "weekly\n", false, "devel_go1.27-abc_Tue", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, log := fakeGo(t, tt.versionFile, "devel go1.27-abc Tue")
			if tt.symlink {
				link := t.TempDir()
				if err := os.Symlink(filepath.Join(bin, "go"), filepath.Join(link, "go")); err != nil {
					t.Skipf("cannot create a symlink: %v", err)
				}
				bin = link
			}
			t.Setenv("PATH", bin)
			t.Setenv("GOROOT", "")
			goCmd, version, err := toolchain(t.Context(), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if goCmd != filepath.Join(bin, "go") || version != tt.wantVersion {
				t.Errorf("toolchain() = %q, %q; want %q, %q", goCmd, version, filepath.Join(bin, "go"), tt.wantVersion)
			}
			_, err = os.Stat(log)
			if ranGo := err == nil; ranGo != tt.wantRunsGo {
				t.Errorf("ran go = %v, want %v", ranGo, tt.wantRunsGo)
			}
		})
	}

	t.Run("no go in PATH", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		if _, _, err := toolchain(t.Context(), t.TempDir()); !errors.Is(err, ErrNoToolchain) {
			t.Errorf("err = %v, want ErrNoToolchain", err)
		}
	})
}
