package fingerprint

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// benchDir is the tree of benchTree, written once per test binary run
// because writing it takes longer than the benchmarks; TestMain removes it.
var benchDir struct {
	once sync.Once
	dir  string
	err  error
}

// benchTree returns the directory of a tree of 20,000 files of 4 KiB in
// 200 directories, as a medium-sized repository. Benchmarks that change
// it restore it.
func benchTree(b *testing.B) string {
	b.Helper()
	benchDir.once.Do(func() {
		benchDir.dir, benchDir.err = os.MkdirTemp("", "fingerprint-bench")
		if benchDir.err == nil {
			writeBenchTree(b, benchDir.dir)
		}
	})
	if benchDir.err != nil {
		b.Fatal(benchDir.err)
	}
	return benchDir.dir
}

func writeBenchTree(b *testing.B, dir string) {
	buf := make([]byte, 4096)
	n := 0
	for p := range 20 {
		for s := range 10 {
			d := filepath.Join(dir, fmt.Sprintf("pkg%02d", p), fmt.Sprintf("sub%02d", s))
			if err := os.MkdirAll(d, 0o777); err != nil {
				b.Fatal(err)
			}
			for f := range 100 {
				copy(buf, fmt.Sprintf("package p // file %d\n", n))
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("file%03d.go", f)), buf, 0o666); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
	}
	writeFile(b, dir, "bin/app", "ELF")
	writeFile(b, dir, ".gitignore", "*.o\n*.tmp\n/bin/\nnode_modules/\n.DS_Store\n*.swp\n/dist/\ncoverage.out\n!keep.o\n")
}

func benchSpec(dir string, gitignore bool) *Spec {
	return &Spec{
		Dir:          dir,
		Sources:      []string{"**/*.go", "go.mod", "!vendor/**"},
		Generates:    []string{"bin/app"},
		UseGitignore: gitignore,
		Definition:   []byte("go build -o bin/app ./..."),
	}
}

// BenchmarkCheckUpToDate checks 20,000 unchanged files; compare with
// BenchmarkLstatAll.
func BenchmarkCheckUpToDate(b *testing.B) {
	for _, gitignore := range []bool{false, true} {
		b.Run(fmt.Sprintf("gitignore=%v", gitignore), func(b *testing.B) {
			dir := benchTree(b)
			s := &Store{Dir: b.TempDir()}
			spec := benchSpec(dir, gitignore)
			st, err := s.Check(b.Context(), "build", spec)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Record(b.Context(), st); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				st, err := s.Check(b.Context(), "build", spec)
				if err != nil {
					b.Fatal(err)
				}
				if !st.UpToDate || st.Sources != 20000 {
					b.Fatalf("%s, %d sources", st, st.Sources)
				}
			}
		})
	}
}

// BenchmarkCheckOneChanged checks 20,000 files of which one changed.
func BenchmarkCheckOneChanged(b *testing.B) {
	dir := benchTree(b)
	s := &Store{Dir: b.TempDir()}
	spec := benchSpec(dir, false)
	st, err := s.Check(b.Context(), "build", spec)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Record(b.Context(), st); err != nil {
		b.Fatal(err)
	}
	const changed = "pkg07/sub03/file042.go"
	old, err := os.ReadFile(filepath.Join(dir, changed))
	if err != nil {
		b.Fatal(err)
	}
	writeFile(b, dir, changed, "package p // changed\n")
	b.Cleanup(func() { writeFile(b, dir, changed, string(old)) })
	for b.Loop() {
		st, err := s.Check(b.Context(), "build", spec)
		if err != nil {
			b.Fatal(err)
		}
		if st.UpToDate || st.Hashed != 1 {
			b.Fatalf("%s, hashed %d", st, st.Hashed)
		}
	}
}

// BenchmarkCold checks and records 20,000 files never recorded: every
// file is read once. Compare with BenchmarkSha256sum.
func BenchmarkCold(b *testing.B) {
	dir := benchTree(b)
	s := &Store{Dir: b.TempDir()}
	spec := benchSpec(dir, false)
	i := 0
	for b.Loop() {
		i++
		key := fmt.Sprint("build ", i)
		st, err := s.Check(b.Context(), key, spec)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Record(b.Context(), st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLstatAll is the floor for a check: walk the tree and lstat
// every file.
func BenchmarkLstatAll(b *testing.B) {
	dir := benchTree(b)
	for b.Loop() {
		n := 0
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				if _, err := os.Lstat(p); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil || n < 20000 {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkSha256sum hashes the tree with coreutils' sha256sum, the
// yardstick for BenchmarkCold.
func BenchmarkSha256sum(b *testing.B) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		b.Skip("no sha256sum")
	}
	dir := benchTree(b)
	for b.Loop() {
		cmd := exec.Command("sh", "-c", "find . -type f -name '*.go' -print0 | xargs -0 sha256sum >/dev/null")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}
