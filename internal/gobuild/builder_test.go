package gobuild

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// realGo returns the go command in PATH and the contents of its GOROOT's
// VERSION file, skipping the test when there is no Go toolchain.
func realGo(t testing.TB) (goCmd, versionFile string) {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("these tests build with the Go toolchain, and go is not in PATH")
	}
	out, err := exec.Command(goCmd, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "VERSION"))
	if err != nil {
		t.Skipf("the Go toolchain has no VERSION file: %v", err)
	}
	return goCmd, string(data)
}

// run runs the binary at path with the arguments "a" and "b".
func run(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command(path, "a", "b").CombinedOutput()
	if err != nil {
		t.Fatalf("running %s: %v\n%s", path, err, out)
	}
	return string(out)
}

// TestBinary walks one project through its life: each step runs after the
// one before, against the same cache.
func TestBinary(t *testing.T) {
	_, versionFile := realGo(t)
	realPath := os.Getenv("PATH")
	noGoPath := t.TempDir()
	// A GOROOT with the real VERSION file but a go command that only
	// records that it ran: a cache hit must not run it.
	fakeBin, fakeLog := fakeGo(t, versionFile, "go0-fake")

	dir := t.TempDir()
	writeFiles(t, dir, module("hello v1"))
	pkgDir := filepath.Join(dir, "gotasks")
	var stderr bytes.Buffer
	b := &Builder{CacheDir: t.TempDir(), Stderr: &stderr}
	const broken = "package main\n\nfunc main() {\n\tundefinedThing()\n}\n"

	const first = "first call builds"
	steps := []struct {
		name       string
		files      map[string]string // written before the step
		path       string            // PATH for the step
		wantBuilt  bool
		wantPathOf string // the step whose binary this one returns; "" for a new one
		wantOut    string // what the binary prints
		wantErr    func(t *testing.T, err error)
	}{
		{name: first, path: realPath, wantBuilt: true, wantOut: "hello v1 [a b]\n"},
		{name: "second call reuses without running go", path: fakeBin, wantPathOf: first, wantOut: "hello v1 [a b]\n"},
		{name: "reuses with no go in PATH", path: noGoPath, wantPathOf: first, wantOut: "hello v1 [a b]\n"},
		{
			name:      "editing a source rebuilds",
			files:     map[string]string{"gotasks/main.go": module("hello v2")["gotasks/main.go"]},
			path:      realPath,
			wantBuilt: true,
			wantOut:   "hello v2 [a b]\n",
		},
		{
			name:  "a compile error is a BuildError",
			files: map[string]string{"gotasks/main.go": broken},
			path:  realPath,
			wantErr: func(t *testing.T, err error) {
				var be *BuildError
				if !errors.As(err, &be) {
					t.Fatalf("err = %v (%T), want *BuildError", err, err)
				}
				const msg = "main.go:4:2: undefined: undefinedThing"
				if !bytes.Contains(be.Output, []byte(msg)) {
					t.Errorf("BuildError.Output = %q, want it to contain %q", be.Output, msg)
				}
				if !bytes.Equal(stderr.Bytes(), be.Output) {
					t.Errorf("Stderr got %q, want the same as BuildError.Output %q", stderr.Bytes(), be.Output)
				}
				if be.Dir != pkgDir || !strings.Contains(be.Error(), pkgDir) {
					t.Errorf("BuildError %q has Dir %q, want it to name %q", be, be.Dir, pkgDir)
				}
			},
		},
		{
			name: "no go and nothing built from these sources",
			path: noGoPath,
			wantErr: func(t *testing.T, err error) {
				if !errors.Is(err, ErrNoToolchain) || !strings.Contains(err.Error(), "https://go.dev/dl") {
					t.Errorf("err = %v, want ErrNoToolchain pointing at https://go.dev/dl", err)
				}
			},
		},
		{
			name:       "going back to built sources reuses their binary with no go",
			files:      map[string]string{"gotasks/main.go": module("hello v1")["gotasks/main.go"]},
			path:       noGoPath,
			wantPathOf: first,
			wantOut:    "hello v1 [a b]\n",
		},
	}

	paths := map[string]string{} // step name -> binary path
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			writeFiles(t, dir, st.files)
			stderr.Reset()
			t.Setenv("PATH", st.path)
			path, built, err := b.Binary(t.Context(), pkgDir)
			if st.wantErr != nil {
				if err == nil {
					t.Fatalf("Binary() = %q, %v, nil; want an error", path, built)
				}
				st.wantErr(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Binary(): %v\ngo build printed:\n%s", err, stderr.Bytes())
			}
			if built != st.wantBuilt {
				t.Errorf("built = %v, want %v", built, st.wantBuilt)
			}
			if want := paths[st.wantPathOf]; st.wantPathOf != "" && path != want {
				t.Errorf("path = %q, want the binary of step %q, %q", path, st.wantPathOf, want)
			}
			for step, p := range paths {
				if st.wantPathOf == "" && p == path {
					t.Errorf("path = %q, want a new binary, not that of step %q", path, step)
				}
			}
			paths[st.name] = path
			if got := run(t, path); got != st.wantOut {
				t.Errorf("the binary printed %q, want %q", got, st.wantOut)
			}
		})
	}
	if data, err := os.ReadFile(fakeLog); err == nil {
		t.Errorf("a cache hit ran go with %q", data)
	}
}

// TestBinaryConcurrent checks that runs racing to build the same sources
// each get a whole, working binary.
func TestBinaryConcurrent(t *testing.T) {
	realGo(t)
	dir := t.TempDir()
	writeFiles(t, dir, module("hello"))
	pkgDir := filepath.Join(dir, "gotasks")
	cache := t.TempDir()

	const n = 3
	paths := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b := &Builder{CacheDir: cache}
			paths[i], _, errs[i] = b.Binary(t.Context(), pkgDir)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		if paths[i] != paths[0] {
			t.Errorf("run %d got %q, run 0 got %q", i, paths[i], paths[0])
		}
	}
	if got, want := run(t, paths[0]), "hello [a b]\n"; got != want {
		t.Errorf("the binary printed %q, want %q", got, want)
	}
	entries, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".build-") {
			t.Errorf("temporary build directory %s left in the cache", e.Name())
		}
	}
}

// TestBinaryLocalPackages checks that editing a package that the Go tasks
// import from a local module rebuilds them, and that editing one they do
// not import does not. Each step runs after the one before.
func TestBinaryLocalPackages(t *testing.T) {
	realGo(t)
	t.Setenv("GOWORK", "")
	dir := t.TempDir()
	writeFiles(t, dir, project("hello"))
	writeFiles(t, dir, map[string]string{"go.work": goWork})
	pkgDir := filepath.Join(dir, "tasks", "gotasks")
	var stderr bytes.Buffer
	b := &Builder{CacheDir: t.TempDir(), Stderr: &stderr}

	steps := []struct {
		name      string
		files     map[string]string // written before the step
		wantBuilt bool
		wantOut   string
	}{
		{"first call builds", nil, true, "hello! dep wdep\n"},
		{"nothing changed", nil, false, "hello! dep wdep\n"},
		{"edit the same module", map[string]string{"tasks/lib/lib.go": project("bye")["tasks/lib/lib.go"]}, true, "bye! dep wdep\n"},
		{"edit the same module, two imports away", map[string]string{"tasks/internal/deep/deep.go": "package deep\n\nconst Suffix = \"?\"\n"}, true, "bye? dep wdep\n"},
		{"edit a replacement", map[string]string{"dep/dep.go": "package dep\n\nconst Name = \"dep2\"\n"}, true, "bye? dep2 wdep\n"},
		{"edit a workspace module", map[string]string{"wdep/wdep.go": "package wdep\n\nconst Name = \"wdep2\"\n"}, true, "bye? dep2 wdep2\n"},
		{"edit packages nothing imports", map[string]string{
			"tasks/other/other.go":  "package other\n\nvar x = 1\n",
			"tasks/lib/lib_test.go": "package lib\n\nvar x = 1\n",
			"dep/unused/unused.go":  "package unused\n\nvar x = 1\n",
		}, false, "bye? dep2 wdep2\n"},
	}
	var prev string
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			writeFiles(t, dir, st.files)
			stderr.Reset()
			path, built, err := b.Binary(t.Context(), pkgDir)
			if err != nil {
				t.Fatalf("Binary(): %v\ngo build printed:\n%s", err, stderr.Bytes())
			}
			if built != st.wantBuilt {
				t.Errorf("built = %v, want %v", built, st.wantBuilt)
			}
			if !st.wantBuilt && path != prev {
				t.Errorf("path = %q, want the binary of the step before, %q", path, prev)
			}
			prev = path
			if got := run(t, path); got != st.wantOut {
				t.Errorf("the binary printed %q, want %q", got, st.wantOut)
			}
		})
	}
}

// BenchmarkBinaryCached measures the hot path: hashing a gotasks
// package and the local packages it imports, finding go and its version,
// and finding the cached binary.
func BenchmarkBinaryCached(b *testing.B) {
	const deploy = "package main\n\n"
	chain := map[string]string{
		"gotasks/deploy.go": deploy + "import _ \"example.com/tasks/p0\"\n",
	}
	// 10 packages of 4 files each, each package importing the next.
	const pkgs, files = 10, 4
	for p := range pkgs {
		imports := "import (\n\t\"fmt\"\n\t\"os\"\n"
		if p+1 < pkgs {
			imports += "\t_ \"example.com/tasks/p" + strconv.Itoa(p+1) + "\"\n"
		}
		imports += ")\n\nvar _, _ = fmt.Print, os.Exit\n\n"
		for f := range files {
			name := "p" + strconv.Itoa(p) + "/f" + strconv.Itoa(f) + ".go"
			chain[name] = "// Package p" + strconv.Itoa(p) + " is a link in a chain.\npackage p" + strconv.Itoa(p) + "\n\n" +
				imports + strings.Repeat("// code\n", 200)
		}
	}
	benchmarks := []struct {
		name  string
		files map[string]string
	}{
		{"no local imports", map[string]string{"gotasks/deploy.go": deploy + strings.Repeat("// deploy tasks\n", 200)}},
		{"40 files of 10 local packages", chain},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			realGo(b)
			dir := b.TempDir()
			writeFiles(b, dir, module("hello"))
			writeFiles(b, dir, bm.files)
			pkgDir := filepath.Join(dir, "gotasks")
			var stderr bytes.Buffer
			bl := &Builder{CacheDir: b.TempDir(), Stderr: &stderr}
			if _, _, err := bl.Binary(b.Context(), pkgDir); err != nil {
				b.Fatalf("%v\n%s", err, stderr.Bytes())
			}
			for b.Loop() {
				if _, built, err := bl.Binary(b.Context(), pkgDir); err != nil || built {
					b.Fatalf("built = %v, err = %v", built, err)
				}
			}
		})
	}
}

// TestBinaryCutShort: a cached binary cut short (a full disk, a killed
// copy) is never handed out, where it would crash every command: with a
// toolchain it is built again, without one the Go tasks cannot be had.
func TestBinaryCutShort(t *testing.T) {
	realGo(t)
	realPath := os.Getenv("PATH")
	dir := t.TempDir()
	writeFiles(t, dir, module("hello v1"))
	pkgDir := filepath.Join(dir, "gotasks")
	b := &Builder{CacheDir: t.TempDir()}
	path, _, err := b.Binary(t.Context(), pkgDir)
	if err != nil {
		t.Fatal(err)
	}
	cut := func() {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, fi.Size()/2); err != nil {
			t.Fatal(err)
		}
	}

	cut()
	t.Setenv("PATH", t.TempDir()) // no go
	if p, _, err := b.Binary(t.Context(), pkgDir); err == nil {
		t.Errorf("with no toolchain, Binary() = %q, nil: a binary cut short was handed out", p)
	}

	t.Setenv("PATH", realPath)
	p, built, err := b.Binary(t.Context(), pkgDir)
	if err != nil {
		t.Fatal(err)
	}
	if !built {
		t.Error("a binary cut short was not built again")
	}
	if got := run(t, p); got != "hello v1 [a b]\n" {
		t.Errorf("the binary printed %q", got)
	}

	// A binary whose time changed but whose bytes did not (a copy of the
	// cache, say) is still good, found by its hash.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	if _, built, err := b.Binary(t.Context(), pkgDir); err != nil || built {
		t.Errorf("an intact binary with a new time: built %v, %v; want it reused", built, err)
	}
}
