package watch

import (
	"slices"
	"testing"
)

func TestWatchPrunesDirectoriesNoPatternReaches(t *testing.T) {
	root := t.TempDir()
	write(t, root, "src/a.c", "x")
	write(t, root, "doc/a.c", "x")
	w := start(t, root, "src/*.c")
	in := w.be.(*inotify)
	in.mu.Lock()
	var dirs []string
	for d := range in.byDir {
		dirs = append(dirs, d)
	}
	in.mu.Unlock()
	slices.Sort(dirs)
	if !slices.Equal(dirs, []string{"", "src"}) {
		t.Errorf("watched directories %q, want the root and src only", dirs)
	}
	write(t, root, "doc/a.c", "y")
	write(t, root, "src/a.c", "y")
	waitFor(t, w, "src/a.c", "doc/a.c")
}
