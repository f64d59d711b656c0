package gotask_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask"
)

// TestSourceHoldsEveryPackage checks that the copy of gotask's source a
// binary carries has every file of every package that a program
// importing cli or task is built from, as it is on disk, plus go.mod and
// go.sum: a package added to cli's imports but not to the go:embed
// patterns would break every Go task built outside this repository.
func TestSourceHoldsEveryPackage(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to list the packages")
	}
	out, err := exec.Command("go", "list", "-deps",
		"-f", `{{if not .Standard}}{{.ImportPath}}|{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}{{end}}`,
		"./cli", "./task").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	src := gotask.Source()
	want := []string{"go.mod", "go.sum"}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 4 || !strings.HasPrefix(f[0], "github.com/gotask/gotask") {
			continue
		}
		rel, err := filepath.Rel(root, f[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range append(strings.Split(f[2], ","), strings.Split(f[3], ",")...) {
			if name != "" {
				want = append(want, filepath.ToSlash(filepath.Join(rel, name)))
			}
		}
	}
	if len(want) < 10 {
		t.Fatalf("go list found only %v", want)
	}
	for _, p := range want {
		got, err := fs.ReadFile(src, p)
		if err != nil {
			t.Errorf("%s is missing from gotask.Source(): add it to the go:embed patterns in source.go", p)
			continue
		}
		disk, err := os.ReadFile(filepath.FromSlash(p))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, disk) {
			t.Errorf("%s in gotask.Source() differs from the file on disk", p)
		}
	}
}
