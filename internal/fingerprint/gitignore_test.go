package fingerprint

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestGitignore(t *testing.T) {
	tree := []string{
		"main.go", "main.o", "debug.log", "important.log",
		"build/out.go", "src/build/keep.go", "src/a.go", "src/a.o",
		"doc/build", "docs/x.go", "docs/sub/y.go",
		"node_modules/m/m.go", "src/node_modules/n.go",
		"gen/a.pb.go", "gen/b.go", "gen/keep/c.pb.go",
		"root.txt", "src/root.txt",
		"trail.txt ", "#hash.go", "!bang.go",
		"logs/a/x.go", "logs/b.go",
		"only/deep/x.go", "only/top.go",
		".git/config", ".git/objects/x.go",
	}
	tests := []struct {
		name       string
		gitignores map[string]string // path of a .gitignore -> contents
		sources    []string
		want       []string
	}{
		{
			name:       "no gitignore",
			gitignores: nil,
			sources:    []string{"**/*.go"},
			want: []string{"!bang.go", "#hash.go", "build/out.go", "docs/sub/y.go", "docs/x.go", "gen/a.pb.go", "gen/b.go", "gen/keep/c.pb.go",
				"logs/a/x.go", "logs/b.go", "main.go", "node_modules/m/m.go", "only/deep/x.go", "only/top.go", "src/a.go", "src/build/keep.go", "src/node_modules/n.go"},
		},
		{
			name:       "basename patterns at any depth",
			gitignores: map[string]string{".gitignore": "*.o\nnode_modules\n# a comment\n\n"},
			sources:    []string{"**/*.o", "**/node_modules/**"},
			want:       nil,
		},
		{
			name:       "negation: last rule wins",
			gitignores: map[string]string{".gitignore": "*.log\n!important.log\n"},
			sources:    []string{"*.log"},
			want:       []string{"important.log"},
		},
		{
			name:       "directory-only rule",
			gitignores: map[string]string{".gitignore": "build/\n"},
			sources:    []string{"**/build", "**/build/**"},
			want:       []string{"doc/build"}, // a file named build stays
		},
		{
			name:       "anchored rule",
			gitignores: map[string]string{".gitignore": "/root.txt\n/docs/*.go\n"},
			sources:    []string{"**/root.txt", "docs/**"},
			want:       []string{"docs/sub/y.go", "src/root.txt"},
		},
		{
			name:       "inner slash anchors too",
			gitignores: map[string]string{".gitignore": "docs/sub\n"},
			sources:    []string{"docs/**"},
			want:       []string{"docs/x.go"},
		},
		{
			name:       "nested gitignore applies below its directory and overrides",
			gitignores: map[string]string{".gitignore": "*.pb.go\n", "gen/keep/.gitignore": "!*.pb.go\n", "src/.gitignore": "a.go\n"},
			sources:    []string{"gen/**", "src/*.go", "main.go"},
			want:       []string{"gen/b.go", "gen/keep/.gitignore", "gen/keep/c.pb.go", "main.go"},
		},
		{
			name:       "nothing re-included inside an ignored directory",
			gitignores: map[string]string{".gitignore": "logs/\n!logs/b.go\n"},
			sources:    []string{"logs/**"},
			want:       nil,
		},
		{
			name:       "trailing double star ignores contents, not the directory",
			gitignores: map[string]string{".gitignore": "only/**\n!only/top.go\n"},
			sources:    []string{"only/**"},
			want:       []string{"only/top.go"},
		},
		{
			name:       "leading and middle double star",
			gitignores: map[string]string{".gitignore": "**/deep\ndocs/**/y.go\n"},
			sources:    []string{"only/**", "docs/**"},
			want:       []string{"docs/x.go", "only/top.go"},
		},
		{
			name:       "escapes and trailing spaces",
			gitignores: map[string]string{".gitignore": "\\#hash.go\n\\!bang.go   \ntrail.txt\\ \r\n"},
			sources:    []string{"*.go", "*.txt "},
			want:       []string{"main.go"},
		},
		{
			name:       "class with bang",
			gitignores: map[string]string{".gitignore": "[!m]*.go\n"},
			sources:    []string{"*.go"},
			want:       []string{"main.go"},
		},
		{
			name:       ".git/info/exclude",
			gitignores: map[string]string{".git/info/exclude": "*.go\n", ".gitignore": "!main.go\n"},
			sources:    []string{"*.go"},
			want:       []string{"main.go"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tree {
				writeFile(t, dir, f, f)
			}
			for name, content := range tt.gitignores {
				writeFile(t, dir, name, content)
			}
			got := selected(t, &Spec{Dir: dir, Sources: append(tt.sources, "!.gitignore"), UseGitignore: true})
			if !slices.Equal(got, tt.want) {
				t.Errorf("sources\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestGitignoreAbove checks the rules of .gitignore files between the
// repository root and a task directory below it.
func TestGitignoreAbove(t *testing.T) {
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o777); err != nil {
		t.Fatal(err)
	}
	writeFile(t, repo, ".gitignore", "*.tmp\n/svc/api/gen/\n/svc/api/top.go\n")
	writeFile(t, repo, "svc/.gitignore", "api/secret.go\n")
	for _, f := range []string{"svc/api/a.go", "svc/api/x.tmp", "svc/api/gen/g.go", "svc/api/secret.go", "svc/api/top.go", "svc/api/sub/top.go"} {
		writeFile(t, repo, f, f)
	}
	got := selected(t, &Spec{Dir: filepath.Join(repo, "svc", "api"), Sources: []string{"**"}, UseGitignore: true})
	want := []string{"a.go", "sub/top.go"}
	if !slices.Equal(got, want) {
		t.Errorf("sources %q, want %q", got, want)
	}
	// Without a repository, rules above the task directory do not count.
	if err := os.Remove(filepath.Join(repo, ".git")); err != nil {
		t.Fatal(err)
	}
	got = selected(t, &Spec{Dir: filepath.Join(repo, "svc", "api"), Sources: []string{"**"}, UseGitignore: true})
	want = []string{"a.go", "gen/g.go", "secret.go", "sub/top.go", "top.go", "x.tmp"}
	if !slices.Equal(got, want) {
		t.Errorf("without .git: sources %q, want %q", got, want)
	}
}
