package cli_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/cli"
)

// BenchmarkList is the work of `gotask -l` on 50 tasks after start-up:
// flags, finding and loading tasks.toml, and printing the list. The
// process-level figure is bench's local/list-50-tasks.
func BenchmarkList(b *testing.B) {
	var doc strings.Builder
	for i := range 50 {
		fmt.Fprintf(&doc, "[tasks.task-%d]\nhelp = \"task number %d does things\"\nrun = \"echo %d\"\n\n", i, i, i)
	}
	file := filepath.Join(b.TempDir(), "tasks.toml")
	if err := os.WriteFile(file, []byte(doc.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	streams := &cli.Streams{Out: io.Discard, ErrOut: io.Discard}
	b.ReportAllocs()
	for b.Loop() {
		if code := cli.Main(b.Context(), []string{"-f", file, "-l"}, streams); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}

// BenchmarkListValues is BenchmarkList with issue 16's values: 10
// computed vars used by the tasks, [env], and a required dotenv file that
// does not exist. -l must evaluate none of them: a var's command would
// fail, and so would reading the dotenv file.
func BenchmarkListValues(b *testing.B) {
	var doc strings.Builder
	doc.WriteString("dotenv = [\"!missing.env\"]\n\n[env]\nTOP = \"{{.v0}}\"\n\n[vars]\n")
	for i := range 10 {
		fmt.Fprintf(&doc, "v%d = { sh = \"echo ran >&2; exit 1\" }\n", i)
	}
	for i := range 50 {
		fmt.Fprintf(&doc, "\n[tasks.task-%d]\nhelp = \"task number %d does things\"\nrun = \"echo {{.v%d}}\"\n", i, i, i%10)
	}
	file := filepath.Join(b.TempDir(), "tasks.toml")
	if err := os.WriteFile(file, []byte(doc.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	streams := &cli.Streams{Out: io.Discard, ErrOut: io.Discard}
	b.ReportAllocs()
	for b.Loop() {
		if code := cli.Main(b.Context(), []string{"-f", file, "-l"}, streams); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
