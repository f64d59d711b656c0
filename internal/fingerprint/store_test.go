package fingerprint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// past is the modification time of every file the tests write: well
// before any state file, so that no entry is "racily clean" and the
// counts of hashed files are exact.
var past = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// writeFile writes dir/name (slash-separated) with mtime past.
func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
	touch(t, dir, name, past)
}

func touch(t testing.TB, dir, name string, mtime time.Time) {
	t.Helper()
	if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(name)), mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func remove(t testing.TB, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
		t.Fatal(err)
	}
}

// project writes a small Go project and returns its directory and spec.
func project(t *testing.T) (string, *Spec) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":        "module x\n",
		"src/a.go":      "package a\n",
		"src/b.go":      "package b\n",
		"src/c.go":      "package c\n",
		"vendor/v/v.go": "package v\n",
		"README.md":     "# x\n",
		"bin/app":       "ELF",
	} {
		writeFile(t, dir, name, content)
	}
	return dir, &Spec{
		Dir:        dir,
		Sources:    []string{"**/*.go", "go.mod", "!vendor/**"},
		Generates:  []string{"bin/app"},
		Definition: []byte("run = go build -o bin/app ./src"),
	}
}

// check calls s.Check and fails the test on error.
func check(t *testing.T, s *Store, key string, spec *Spec) *Status {
	t.Helper()
	st, err := s.Check(t.Context(), key, spec)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// checkAndRecord checks and records, as after a successful run.
func checkAndRecord(t *testing.T, s *Store, key string, spec *Spec) {
	t.Helper()
	if err := s.Record(t.Context(), check(t, s, key, spec)); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name        string
		change      func(t *testing.T, dir string, spec *Spec)
		wantReasons []string // nil: up to date
		wantHashed  int
	}{
		{
			name:   "unchanged",
			change: func(t *testing.T, dir string, spec *Spec) {},
		},
		{
			name: "modified",
			change: func(t *testing.T, dir string, spec *Spec) {
				writeFile(t, dir, "src/a.go", "package a // changed\n")
				touch(t, dir, "src/a.go", past.Add(time.Second))
			},
			wantReasons: []string{"src/a.go changed"},
			wantHashed:  1,
		},
		{
			name: "replaced with same size and mtime",
			change: func(t *testing.T, dir string, spec *Spec) {
				// Only the inode and ctime tell; an mtime-preserving copy
				// (cp -p, rsync -t) does this.
				writeFile(t, dir, "src/new", "package z\n")
				if err := os.Rename(filepath.Join(dir, "src/new"), filepath.Join(dir, "src/a.go")); err != nil {
					t.Fatal(err)
				}
			},
			wantReasons: []string{"src/a.go changed"},
			wantHashed:  1,
		},
		{
			name: "added",
			change: func(t *testing.T, dir string, spec *Spec) {
				writeFile(t, dir, "src/d/d.go", "package d\n")
			},
			wantReasons: []string{"src/d/d.go added"},
		},
		{
			name: "removed",
			change: func(t *testing.T, dir string, spec *Spec) {
				remove(t, dir, "src/c.go")
			},
			wantReasons: []string{"src/c.go removed"},
		},
		{
			name: "renamed",
			change: func(t *testing.T, dir string, spec *Spec) {
				if err := os.Rename(filepath.Join(dir, "src/a.go"), filepath.Join(dir, "src/z.go")); err != nil {
					t.Fatal(err)
				}
			},
			wantReasons: []string{"src/a.go removed", "src/z.go added"},
		},
		{
			name: "touched without change",
			change: func(t *testing.T, dir string, spec *Spec) {
				touch(t, dir, "src/b.go", past.Add(time.Hour))
			},
			wantHashed: 1, // read once, found unchanged; see TestTouchRefreshes
		},
		{
			name: "definition changed",
			change: func(t *testing.T, dir string, spec *Spec) {
				spec.Definition = []byte("run = go build -race -o bin/app ./src")
			},
			wantReasons: []string{"definition changed"},
		},
		{
			name: "generated file deleted",
			change: func(t *testing.T, dir string, spec *Spec) {
				remove(t, dir, "bin/app")
			},
			wantReasons: []string{"bin/app (generated) is missing"},
		},
		{
			name: "excluded file changed",
			change: func(t *testing.T, dir string, spec *Spec) {
				writeFile(t, dir, "vendor/v/v.go", "package v // changed\n")
			},
		},
		{
			name: "file that is no source added",
			change: func(t *testing.T, dir string, spec *Spec) {
				writeFile(t, dir, "notes.txt", "x")
			},
		},
		{
			name: "many changes",
			change: func(t *testing.T, dir string, spec *Spec) {
				spec.Definition = nil
				remove(t, dir, "bin/app")
				for i := range 6 {
					writeFile(t, dir, fmt.Sprintf("src/n%d.go", i), "package n\n")
				}
			},
			wantReasons: []string{"definition changed", "bin/app (generated) is missing",
				"src/n0.go added", "src/n1.go added", "src/n2.go added", "and 3 more"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, spec := project(t)
			s := &Store{Dir: filepath.Join(t.TempDir(), ".gotask")}
			checkAndRecord(t, s, "build", spec)
			tt.change(t, dir, spec)
			st := check(t, s, "build", spec)
			if st.UpToDate != (tt.wantReasons == nil) || !slices.Equal(st.Reasons, tt.wantReasons) {
				t.Errorf("Check = up to date %v, reasons %q; want reasons %q", st.UpToDate, st.Reasons, tt.wantReasons)
			}
			if st.Hashed != tt.wantHashed {
				t.Errorf("Check hashed %d files, want %d", st.Hashed, tt.wantHashed)
			}
			if st.UpToDate {
				return
			}
			// After a successful run, the task is up to date again.
			if err := s.Record(t.Context(), st); err != nil {
				t.Fatal(err)
			}
			if tt.name == "generated file deleted" || tt.name == "many changes" {
				writeFile(t, dir, "bin/app", "ELF")
			}
			if st := check(t, s, "build", spec); !st.UpToDate {
				t.Errorf("after Record: %s", st)
			}
		})
	}
}

func TestNoRecord(t *testing.T) {
	dir, spec := project(t)
	remove(t, dir, "bin/app")
	s := &Store{Dir: t.TempDir()}
	st := check(t, s, "build", spec)
	want := []string{"no record of a previous run", "bin/app (generated) is missing"}
	if st.UpToDate || !slices.Equal(st.Reasons, want) {
		t.Errorf("first Check: %q, want %q", st.Reasons, want)
	}
	if st.Hashed != 0 || st.Sources != 4 {
		t.Errorf("first Check: hashed %d of %d sources; want 0 of 4 (Record hashes them)", st.Hashed, st.Sources)
	}
}

// TestTouchRefreshes shows that a touched but unchanged file is read by
// one Check, which refreshes its stat in the record, and not by the next.
func TestTouchRefreshes(t *testing.T) {
	dir, spec := project(t)
	s := &Store{Dir: t.TempDir()}
	checkAndRecord(t, s, "build", spec)
	touch(t, dir, "src/a.go", past.Add(time.Hour))
	touch(t, dir, "src/b.go", past.Add(time.Hour))
	for i, want := range []int{2, 0} {
		st := check(t, s, "build", spec)
		if !st.UpToDate || st.Hashed != want {
			t.Errorf("Check %d: %s, hashed %d; want up to date, hashed %d", i+1, st, st.Hashed, want)
		}
	}
}

func TestFailedRun(t *testing.T) {
	dir, spec := project(t)
	s := &Store{Dir: t.TempDir()}
	checkAndRecord(t, s, "build", spec)
	writeFile(t, dir, "src/a.go", "package a // broken\n")
	for i := range 2 {
		// The run fails, so Record is not called.
		st := check(t, s, "build", spec)
		if st.UpToDate || !slices.Equal(st.Reasons, []string{"src/a.go changed"}) {
			t.Errorf("Check %d: %s; want src/a.go changed", i+1, st)
		}
	}
}

func TestKeysKeptApart(t *testing.T) {
	_, spec := project(t)
	s := &Store{Dir: t.TempDir()}
	one, two := *spec, *spec
	one.Definition = []byte("mode=debug")
	two.Definition = []byte("mode=release")
	checkAndRecord(t, s, "build mode=debug", &one)
	if st := check(t, s, "build mode=release", &two); !slices.Equal(st.Reasons, []string{"no record of a previous run"}) {
		t.Errorf("other key: %s; want no record", st)
	}
	checkAndRecord(t, s, "build mode=release", &two)
	if st := check(t, s, "build mode=debug", &one); !st.UpToDate {
		t.Errorf("first key after recording the second: %s", st)
	}
	if st := check(t, s, "build mode=release", &two); !st.UpToDate {
		t.Errorf("second key: %s", st)
	}
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 {
		t.Errorf("state directory holds %d files, want 2", len(ents))
	}
}

func TestStateDirDeleted(t *testing.T) {
	_, spec := project(t)
	s := &Store{Dir: filepath.Join(t.TempDir(), ".gotask")}
	checkAndRecord(t, s, "build", spec)
	if err := os.RemoveAll(s.Dir); err != nil {
		t.Fatal(err)
	}
	if st := check(t, s, "build", spec); !slices.Equal(st.Reasons, []string{"no record of a previous run"}) {
		t.Errorf("after deleting the state directory: %s; want no record", st)
	}
	checkAndRecord(t, s, "build", spec)
	if st := check(t, s, "build", spec); !st.UpToDate {
		t.Errorf("after recording again: %s", st)
	}
}

func TestCorruptState(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", func(b []byte) []byte { return nil }},
		{"bit flipped", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
		{"other format", func(b []byte) []byte { return []byte(`{"json": true}`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, spec := project(t)
			s := &Store{Dir: t.TempDir()}
			checkAndRecord(t, s, "build", spec)
			name := filepath.Join(s.Dir, stateName(keyID("build")))
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, tt.corrupt(data), 0o666); err != nil {
				t.Fatal(err)
			}
			st := check(t, s, "build", spec)
			if st.UpToDate || len(st.Reasons) != 1 || !strings.HasPrefix(st.Reasons[0], "no usable record of a previous run (") {
				t.Errorf("Check: %q; want no usable record", st.Reasons)
			}
			if err := s.Record(t.Context(), st); err != nil {
				t.Fatal(err)
			}
			if st := check(t, s, "build", spec); !st.UpToDate {
				t.Errorf("after Record: %s", st)
			}
		})
	}
}

// TestRecordAfterRun shows that Record takes the sources as the run left
// them: a task that formats its sources is up to date after one run.
func TestRecordAfterRun(t *testing.T) {
	dir, spec := project(t)
	s := &Store{Dir: t.TempDir()}
	checkAndRecord(t, s, "fmt", spec)
	writeFile(t, dir, "src/a.go", "package   a\n")
	st := check(t, s, "fmt", spec)
	if st.UpToDate {
		t.Fatal("Check after an edit: up to date")
	}
	// The run formats a.go and generates a new source.
	writeFile(t, dir, "src/a.go", "package a\n\n")
	writeFile(t, dir, "src/gen.go", "package a // generated\n")
	if err := s.Record(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	if st := check(t, s, "fmt", spec); !st.UpToDate || st.Hashed != 0 {
		t.Errorf("Check after the run: %s, hashed %d; want up to date, 0", st, st.Hashed)
	}
}

func TestGenerates(t *testing.T) {
	tests := []struct {
		name      string
		generates []string
		files     []string
		want      []string
	}{
		{"literal present", []string{"bin/app"}, []string{"bin/app"}, nil},
		{"literal directory", []string{"bin"}, []string{"bin/app"}, nil},
		{"literal missing", []string{"bin/app", "bin/tool"}, []string{"bin/app"}, []string{"bin/tool (generated) is missing"}},
		{"literal under a file", []string{"bin/app/x"}, []string{"bin/app"}, []string{"bin/app/x (generated) is missing"}},
		{"glob matches", []string{"dist/**/*.whl"}, []string{"dist/a/b/x.whl"}, nil},
		{"glob matches nothing", []string{"dist/*.whl"}, []string{"dist/x.tar.gz"}, []string{"dist/*.whl (generated) matches nothing"}},
		{"glob under missing directory", []string{"out/*"}, nil, []string{"out/* (generated) matches nothing"}},
		{"glob excluded", []string{"dist/*", "!dist/*.tmp"}, []string{"dist/x.tmp"}, []string{"dist/* (generated) matches nothing"}},
		{"several globs", []string{"a/*.o", "b/*.o"}, []string{"a/x.o", "b/y.o"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "main.c", "int main;")
			for _, f := range tt.files {
				writeFile(t, dir, f, "x")
			}
			s := &Store{Dir: t.TempDir()}
			spec := &Spec{Dir: dir, Sources: []string{"*.c"}, Generates: tt.generates}
			checkAndRecord(t, s, "k", spec)
			st := check(t, s, "k", spec)
			if !slices.Equal(st.Reasons, tt.want) {
				t.Errorf("reasons %q, want %q", st.Reasons, tt.want)
			}
		})
	}
}

// TestStateDirInsideSources checks that the state directory, inside the
// task directory and matched by its sources, is not a source.
func TestStateDirInsideSources(t *testing.T) {
	dir, _ := project(t)
	spec := &Spec{Dir: dir, Sources: []string{"**"}}
	s := &Store{Dir: filepath.Join(dir, ".gotask")}
	checkAndRecord(t, s, "all", spec)
	checkAndRecord(t, s, "other", spec)
	if st := check(t, s, "all", spec); !st.UpToDate {
		t.Errorf("Check: %s", st)
	}
}

func TestSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "real/a.go", "package a\n")
	for _, l := range []struct{ target, name string }{
		{"real/a.go", "link.go"},
		{"real", "linkdir"},
		{"nowhere.go", "dangling.go"},
	} {
		if err := os.Symlink(filepath.Join(dir, l.target), filepath.Join(dir, l.name)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	got := selected(t, &Spec{Dir: dir, Sources: []string{"**/*.go"}})
	want := []string{"link.go", "real/a.go"}
	if !slices.Equal(got, want) {
		t.Errorf("sources %q, want %q", got, want)
	}
}

// TestStateKeepsKeysPrivate: a key holds argument values, which may be
// secrets (deploy --token S3cr3t...). Neither the state file's name nor
// its contents show them, and the state directory is for its owner only,
// even when it existed with looser permissions.
func TestStateKeepsKeysPrivate(t *testing.T) {
	_, spec := project(t)
	const secret = "S3cr3tT0ken"
	key := "deploy --token " + secret
	for _, existing := range []bool{false, true} {
		s := &Store{Dir: filepath.Join(t.TempDir(), ".gotask")}
		if existing {
			if err := os.Mkdir(s.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(s.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		checkAndRecord(t, s, key, spec)
		if st := check(t, s, key, spec); !st.UpToDate {
			t.Fatalf("not up to date after Record: %v", st)
		}
		if st := check(t, s, "deploy --token other", spec); st.UpToDate {
			t.Fatal("another key shares the record")
		}
		fi, err := os.Stat(s.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("existing %v: state directory has mode %o, want 700", existing, perm)
		}
		entries, err := os.ReadDir(s.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.Contains(e.Name(), "S3cr3t") || strings.Contains(e.Name(), "token") || strings.Contains(e.Name(), "deploy") {
				t.Errorf("state file name %q shows the key", e.Name())
			}
			data, err := os.ReadFile(filepath.Join(s.Dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), secret) {
				t.Errorf("state file %s holds the key in clear", e.Name())
			}
			if fi, _ := e.Info(); fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("state file %s has mode %o", e.Name(), fi.Mode().Perm())
			}
		}
	}
}

// TestOldStateNamesRemoved: state files named the old way (a readable
// prefix made of the key, which may hold a secret) are removed when a
// record is written, and are never read.
func TestOldStateNamesRemoved(t *testing.T) {
	_, spec := project(t)
	// The old version made the directory 0755.
	s := &Store{Dir: filepath.Join(t.TempDir(), ".gotask")}
	if err := os.Mkdir(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(s.Dir, "deploy_--token_S3cr3tT0ken-0123456789abcdef0123456789abcdef")
	other := filepath.Join(s.Dir, "notes.txt")
	for _, f := range []string{old, other} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkAndRecord(t, s, "build", spec)
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old state file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not an old state file was touched: %v", err)
	}
}

func TestRecordNeedsCheck(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	if err := s.Record(t.Context(), &Status{}); err == nil {
		t.Error("Record of a Status not from Check succeeded")
	}
}

func TestCanceled(t *testing.T) {
	_, spec := project(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := &Store{Dir: t.TempDir()}
	if _, err := s.Check(ctx, "build", spec); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a canceled context: %v", err)
	}
}

// TestConcurrentGoroutines has many goroutines check and record one key
// while a source changes; every state written must stay readable.
func TestConcurrentGoroutines(t *testing.T) {
	dir, spec := project(t)
	s := &Store{Dir: t.TempDir()}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				st, err := s.Check(t.Context(), "build", spec)
				if err == nil && g == 0 {
					// One goroutine edits a source now and then.
					err = os.WriteFile(filepath.Join(dir, "src/a.go"), fmt.Appendf(nil, "package a // %d\n", i), 0o666)
				}
				if err == nil {
					err = s.Record(t.Context(), st)
				}
				if err == nil {
					_, err = s.load(keyID("build"))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkAndRecord(t, s, "build", spec)
	if st := check(t, s, "build", spec); !st.UpToDate {
		t.Errorf("after the storm: %s", st)
	}
	ents, _ := os.ReadDir(s.Dir)
	if len(ents) != 1 {
		t.Errorf("state directory holds %d files, want 1 (no temporary files left): %v", len(ents), ents)
	}
}

// TestRacilyClean checks that a file modified no earlier than its state
// file was written is read again, since a change within the clock's
// resolution would not show in its stat.
func TestRacilyClean(t *testing.T) {
	dir, spec := project(t)
	touch(t, dir, "src/a.go", time.Now().Add(time.Hour))
	s := &Store{Dir: t.TempDir()}
	checkAndRecord(t, s, "build", spec)
	for i := range 2 {
		if st := check(t, s, "build", spec); !st.UpToDate || st.Hashed != 1 {
			t.Errorf("Check %d: %s, hashed %d; want up to date, hashed 1", i+1, st, st.Hashed)
		}
	}
}

func TestIsOldStateName(t *testing.T) {
	for name, want := range map[string]bool{
		"build-0123456789abcdef0123456789abcdef":                 true,
		"deploy_--token_S3cr3t-0123456789abcdef0123456789abcdef": true,
		"a.b-0123456789abcdef0123456789abcdef":                   true,
		"build-0123456789abcdef0123456789abcdef.123456.tmp":      true,
		stateName(keyID("build")):                                false,
		stateName(keyID("build")) + ".123456.tmp":                false,
		"notes.txt":                               false,
		"build-0123456789abcdef0123456789abcdeg":  false,
		"build-0123456789abcdef0123456789abcdef0": false,
	} {
		if got := isOldStateName(name); got != want {
			t.Errorf("isOldStateName(%q) = %v, want %v", name, got, want)
		}
	}
}
