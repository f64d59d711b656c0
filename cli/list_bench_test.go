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
