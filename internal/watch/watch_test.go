package watch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// hang bounds every wait of these tests; it is a guard, not a timing.
const hang = 2 * time.Minute

func write(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T, root string, patterns ...string) *Watcher {
	t.Helper()
	w, err := New(root, patterns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// next waits for the next Change.
func next(t *testing.T, w *Watcher) Change {
	t.Helper()
	select {
	case c, ok := <-w.Events():
		if !ok {
			t.Fatalf("events closed: %v", w.Err())
		}
		return c
	case <-time.After(hang):
		t.Fatal("no change reported")
	}
	return Change{}
}

// waitFor waits until a Change lists want, failing on a Change that lists
// any of bad on the way.
func waitFor(t *testing.T, w *Watcher, want string, bad ...string) Change {
	t.Helper()
	for {
		c := next(t, w)
		for _, b := range bad {
			if slices.Contains(c.Paths, b) {
				t.Fatalf("change %v reports %s, which the patterns leave out", c.Paths, b)
			}
		}
		if slices.Contains(c.Paths, want) {
			return c
		}
	}
}

func TestWatchReportsMatchingFilesOnly(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.go", "package a")
	write(t, root, "sub/b.go", "package b")
	w := start(t, root, "**/*.go", "!**/*_test.go")

	// Files the patterns leave out, then one they take: the Change that
	// names the one taken must not name the others, whatever the
	// batching.
	write(t, root, "a_test.go", "x")
	write(t, root, "notes.txt", "x")
	write(t, root, ".git/x.go", "x")
	write(t, root, ".gotask/y.go", "x")
	write(t, root, "sub/b.go", "package b // edited")
	waitFor(t, w, "sub/b.go", "a_test.go", "notes.txt", ".git/x.go", ".gotask/y.go")

	if err := os.Remove(filepath.Join(root, "a.go")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, w, "a.go")

	if err := os.Rename(filepath.Join(root, "sub/b.go"), filepath.Join(root, "sub/c.go")); err != nil {
		t.Fatal(err)
	}
	c := waitFor(t, w, "sub/c.go")
	_ = c
}

func TestWatchNewDirectories(t *testing.T) {
	root := t.TempDir()
	w := start(t, root, "**/*.go")
	// A new tree: the file written right after mkdir may come before the
	// watch on the new directory exists; it must be reported either way.
	write(t, root, "new/deeper/x.go", "x")
	waitFor(t, w, "new/deeper/x.go")
	// And the new directory is watched from then on.
	write(t, root, "new/deeper/y.go", "y")
	waitFor(t, w, "new/deeper/y.go")

	// A directory renamed into place brings its files; then they are
	// watched under the new name.
	outside := t.TempDir()
	write(t, outside, "moved/m.go", "m")
	if err := os.Rename(filepath.Join(outside, "moved"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, w, "moved/m.go")
	if err := os.Rename(filepath.Join(root, "moved"), filepath.Join(root, "renamed")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, w, "renamed/m.go")
	write(t, root, "renamed/m.go", "edited")
	waitFor(t, w, "renamed/m.go", "moved/m.go")
}

func TestWatchDebouncesABurst(t *testing.T) {
	root := t.TempDir()
	// A long debounce, so that all writes of the burst (done well within
	// it on any machine that runs the test at all) fall into one Change;
	// the assertion is on the batching, not on a time.
	w, err := Config{Debounce: 2 * time.Second}.New(root, []string{"*.txt"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	var want []string
	for i := range 20 {
		name := string(rune('a'+i)) + ".txt"
		write(t, root, name, "x")
		want = append(want, name)
	}
	got := map[string]bool{}
	changes := 0
	for len(got) < len(want) {
		c := next(t, w)
		changes++
		for _, p := range c.Paths {
			got[p] = true
		}
	}
	if changes > 2 {
		t.Errorf("20 writes came as %d changes, want them batched", changes)
	}
}

func TestWatchClose(t *testing.T) {
	root := t.TempDir()
	w, err := New(root, []string{"**"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Events(); ok {
		t.Error("Events still open after Close")
	}
	if w.Err() != nil {
		t.Errorf("Err after Close = %v, want nil", w.Err())
	}
}

func TestWatchBadInput(t *testing.T) {
	root := t.TempDir()
	if _, err := New(root, []string{"a/[b"}); err == nil {
		t.Error("a malformed pattern was accepted")
	}
	if _, err := New(filepath.Join(root, "missing"), []string{"*"}); err == nil {
		t.Error("a missing root was accepted")
	}
	if _, err := New(root, nil); err == nil {
		t.Error("no patterns was accepted")
	}
}
