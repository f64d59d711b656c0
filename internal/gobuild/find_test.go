package gobuild

import (
	"os"
	"path/filepath"
	"testing"
)

// writeFiles creates each file under dir, with its parent directories.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFind(t *testing.T) {
	const mainGo = "package main\n\nfunc main() {}\n"
	tests := []struct {
		name  string
		files map[string]string
		want  bool
	}{
		{"no gotasks directory", map[string]string{"tasks.toml": ""}, false},
		{"gotasks is a file", map[string]string{"gotasks": mainGo}, false},
		{"empty gotasks directory", map[string]string{"gotasks/README": "Go tasks"}, false},
		{"only a test file", map[string]string{"gotasks/main_test.go": mainGo}, false},
		{"not a main package", map[string]string{"gotasks/lib.go": "package tasks\n"}, false},
		{"main only in an ignored _ file", map[string]string{"gotasks/_old.go": mainGo}, false},
		{"main only in an ignored . file", map[string]string{"gotasks/.old.go": mainGo}, false},
		{"main only in a subdirectory", map[string]string{"gotasks/cmd/main.go": mainGo}, false},
		{"main package", map[string]string{"gotasks/main.go": mainGo}, true},
		{"main only in a comment", map[string]string{"gotasks/lib.go": "// package main\n/* package main */\npackage tasks\n"}, false},
		{"main package after a byte order mark", map[string]string{"gotasks/main.go": "\ufeff" + mainGo}, true},
		{
			"main package after comments and a build constraint",
			map[string]string{"gotasks/tasks.go": "// Tasks.\n\n//go:build !plan9\n\n/* more */ package main\n"},
			true,
		},
		{
			"main package beside a file that does not parse",
			map[string]string{"gotasks/a.go": "pkg broken", "gotasks/b.go": mainGo},
			true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			pkgDir, ok := Find(dir)
			if ok != tt.want {
				t.Fatalf("Find(%q) ok = %v, want %v", dir, ok, tt.want)
			}
			want := ""
			if tt.want {
				want = filepath.Join(dir, "gotasks")
			}
			if pkgDir != want {
				t.Errorf("Find(%q) = %q, want %q", dir, pkgDir, want)
			}
		})
	}
}
