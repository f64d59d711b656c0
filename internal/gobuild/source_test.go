package gobuild

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// gotaskFS is a stand-in for the copy of gotask's source: only its shape
// matters to these tests, which build nothing.
func gotaskFS(cliDoc string) fstest.MapFS {
	return fstest.MapFS{
		"go.mod":          {Data: []byte("module github.com/gotask/gotask\n\ngo 1.26.0\n\nrequire example.org/dep v1.0.0\n\ntool example.org/dep/cmd/lint\n")},
		"go.sum":          {Data: []byte("example.org/dep v1.0.0 h1:abc=\n")},
		"source.go":       {Data: []byte("package gotask\n")},
		"cli/doc.go":      {Data: []byte(cliDoc)},
		"cli/cli_test.go": {Data: []byte("package cli\n")},
	}
}

// A gotask upgraded in place must not reuse Go tasks built against the
// old one; tests of gotask do not count.
func TestSourceIDAndKey(t *testing.T) {
	cache := t.TempDir()
	a, err := sourceID(cache, gotaskFS("package cli\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	withTest := gotaskFS("package cli\n")
	withTest["cli/more_test.go"] = &fstest.MapFile{Data: []byte("package cli\n")}
	if same, _ := sourceID(cache, withTest, ""); same != a {
		t.Errorf("a _test.go file changed the ID")
	}
	b, err := sourceID(cache, gotaskFS("package cli // changed\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two different sources have the same ID %s", a)
	}

	// The ID of a binary is remembered by its stamp: the same stamp
	// answers without reading the source, another stamp reads it.
	if id, _ := sourceID(cache, gotaskFS("package cli\n"), "bin 1 1"); id != a {
		t.Fatalf("ID with a stamp = %s, want %s", id, a)
	}
	if id, _ := sourceID(cache, fstest.MapFS{}, "bin 1 1"); id != a {
		t.Errorf("a known stamp did not answer from the cache")
	}
	if id, _ := sourceID(cache, gotaskFS("package cli // changed\n"), "bin 2 2"); id != b {
		t.Errorf("a new stamp reused the ID of another binary")
	}

	// The key of Go tasks in no module changes with the gotask source,
	// and with any file of gotasks/, subdirectories included.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"gotasks/main.go": "package main\n\nfunc main() {}\n"})
	pkgDir := filepath.Join(dir, "gotasks")
	keyA, err := sourceHash(pkgDir, loadMemo(""), a)
	if err != nil {
		t.Fatalf("standalone key: %v", err)
	}
	if keyB, _ := sourceHash(pkgDir, loadMemo(""), b); keyB == keyA {
		t.Errorf("another gotask source gave the same key")
	}
	writeFiles(t, dir, map[string]string{"gotasks/lib/lib.go": "package lib\n"})
	if keyC, _ := sourceHash(pkgDir, loadMemo(""), a); keyC == keyA {
		t.Errorf("a new file in a subdirectory of gotasks/ left the key as it was")
	}
}

func TestWriteSource(t *testing.T) {
	cache := t.TempDir()
	src := gotaskFS("package cli\n")
	id, err := sourceID(cache, src, "")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := writeSource(cache, src, id)
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(cache, "src", id) {
		t.Errorf("written to %s", dir)
	}
	for _, name := range []string{"go.mod", "go.sum", "source.go", "cli/doc.go"} {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("%s is writable (%v): an edit would change what later builds get", name, fi.Mode())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cli", "cli_test.go")); err == nil {
		t.Errorf("a _test.go file was written")
	}
	// A second call finds it in place.
	if again, err := writeSource(cache, src, id); err != nil || again != dir {
		t.Errorf("second writeSource = %s, %v", again, err)
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "src"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestStandaloneGoMod(t *testing.T) {
	src := gotaskFS("")
	data, _ := fs.ReadFile(src, "go.mod")
	got := string(standaloneGoMod(data, "/cache dir/src/abc"))
	for _, want := range []string{
		"module gotasks\n",
		"require example.org/dep v1.0.0\n",
		"require github.com/gotask/gotask v0.0.0\n",
		`replace github.com/gotask/gotask => "/cache dir/src/abc"` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("go.mod lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "tool") || strings.Contains(got, "module github.com/gotask/gotask") {
		t.Errorf("go.mod keeps gotask's module or tool lines:\n%s", got)
	}
}
