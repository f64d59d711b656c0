package fingerprint

import (
	"slices"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"go.mod", "go.mod", true},
		{"go.mod", "sub/go.mod", false},
		{"*.go", "a.go", true},
		{"*.go", "src/a.go", false},
		{"*.go", ".hidden.go", true},
		{"src/*.go", "src/a.go", true},
		{"src/*.go", "src/x/a.go", false},
		{"**/*.go", "a.go", true},
		{"**/*.go", "src/x/y/a.go", true},
		{"**/*.go", "a.got", false},
		{"src/**/*.go", "src/a.go", true},
		{"src/**/*.go", "src/x/y/a.go", true},
		{"src/**/*.go", "other/a.go", false},
		{"src/**", "src", true},
		{"src/**", "src/x/y", true},
		{"src/**", "srcx/y", false},
		{"**", "anything/at/all", true},
		{"a/**/b/**/c", "a/b/c", true},
		{"a/**/b/**/c", "a/x/b/y/z/c", true},
		{"a/**/b/**/c", "a/x/c", false},
		{"a/**/**/b", "a/b", true},
		{"a**", "abc", true},
		{"a**", "a/bc", false},
		{"?.go", "a.go", true},
		{"?.go", "ab.go", false},
		{"[ab].go", "b.go", true},
		{"[ab].go", "c.go", false},
		{"[^ab].go", "c.go", true},
		{"[!ab].go", "c.go", true},
		{"[!ab].go", "a.go", false},
		{`\[x\].go`, "[x].go", true},
		{`\!x`, "!x", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"x*", "xyz", true},
		{"x*", "axyz", false},
		{"*x*", "axyz", true},
		{"./src//a.go", "src/a.go", true},
		{"src/a.go", "./src/a.go", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.name, func(t *testing.T) {
			got, err := Match(tt.pattern, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
			}
		})
	}
}

func TestBadPattern(t *testing.T) {
	tests := []struct {
		name      string
		sources   []string
		generates []string
		wantErr   string
	}{
		{"unterminated class", []string{"src/*.go", "src/[a.go"}, nil, `sources: pattern "src/[a.go"`},
		{"trailing backslash", []string{`a\`}, nil, `pattern "a\\"`},
		{"bad exclusion", []string{"**", "![x"}, nil, `pattern "[x"`},
		{"bad generates", nil, []string{"bin/[z"}, `generates: pattern "bin/[z"`},
		{"parent directory", []string{"../shared/*.go"}, nil, `"../shared/*.go" leaves the task directory`},
		{"absolute", []string{"/etc/passwd"}, nil, `"/etc/passwd" is absolute`},
		{"empty", []string{""}, nil, "empty pattern"},
		{"directory itself", []string{"./"}, nil, "names the task directory itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Store{Dir: t.TempDir()}
			_, err := s.Check(t.Context(), "k", &Spec{Dir: t.TempDir(), Sources: tt.sources, Generates: tt.generates})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Check error = %v, want one containing %s", err, tt.wantErr)
			}
		})
	}
	if _, err := Match("[", "x"); err == nil || !strings.Contains(err.Error(), `"["`) {
		t.Errorf("Match(\"[\") error = %v, want one naming the pattern", err)
	}
}

// TestSelection is the table of what a Spec's sources select in a tree:
// "**", "!" exclusions (which apply whatever their order, and to whole
// directories) and literal names.
func TestSelection(t *testing.T) {
	tree := []string{
		"go.mod", "main.go", "README.md",
		"src/a.go", "src/a_test.go", "src/x/b.go", "src/x/data.txt",
		"vendor/v/v.go", "testdata/t.go", "src/testdata/u.go",
		".hidden/h.go",
	}
	tests := []struct {
		name    string
		sources []string
		want    []string
	}{
		{"all go files", []string{"**/*.go"},
			[]string{".hidden/h.go", "main.go", "src/a.go", "src/a_test.go", "src/testdata/u.go", "src/x/b.go", "testdata/t.go", "vendor/v/v.go"}},
		{"exclude a tree", []string{"**/*.go", "go.mod", "!vendor/**"},
			[]string{".hidden/h.go", "go.mod", "main.go", "src/a.go", "src/a_test.go", "src/testdata/u.go", "src/x/b.go", "testdata/t.go"}},
		{"exclusion first", []string{"!vendor/**", "**/*.go"},
			[]string{".hidden/h.go", "main.go", "src/a.go", "src/a_test.go", "src/testdata/u.go", "src/x/b.go", "testdata/t.go"}},
		{"exclude a directory by name at any depth", []string{"**/*.go", "!**/testdata"},
			[]string{".hidden/h.go", "main.go", "src/a.go", "src/a_test.go", "src/x/b.go", "vendor/v/v.go"}},
		{"exclude files", []string{"src/**", "!**/*_test.go", "!**/*.txt"},
			[]string{"src/a.go", "src/testdata/u.go", "src/x/b.go"}},
		{"one level", []string{"src/*"}, []string{"src/a.go", "src/a_test.go"}},
		{"directories are not sources", []string{"src", "src/x"}, nil},
		{"literal", []string{"go.mod", "missing.txt"}, []string{"go.mod"}},
		{"everything", []string{"**"},
			[]string{".hidden/h.go", "README.md", "go.mod", "main.go", "src/a.go", "src/a_test.go", "src/testdata/u.go", "src/x/b.go", "src/x/data.txt", "testdata/t.go", "vendor/v/v.go"}},
		{"no sources", nil, nil},
	}
	dir := t.TempDir()
	for _, f := range tree {
		writeFile(t, dir, f, f)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := selected(t, &Spec{Dir: dir, Sources: tt.sources})
			if !slices.Equal(got, tt.want) {
				t.Errorf("sources %q select\n%q\nwant\n%q", tt.sources, got, tt.want)
			}
		})
	}
}

// selected returns the paths of the source files of spec, in order.
func selected(t *testing.T, spec *Spec) []string {
	t.Helper()
	c, err := compileSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	files, err := walkSources(t.Context(), c, "")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range files {
		paths = append(paths, e.path)
	}
	slices.Sort(paths)
	return paths
}

func TestCmpPath(t *testing.T) {
	// The order of a walk that visits entries by name.
	walkOrder := []string{"a/b", "a/c/d", "a.go", "a0", "ab/c", "b"}
	for i := range walkOrder {
		for j := range walkOrder {
			got := cmpPath(walkOrder[i], walkOrder[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("cmpPath(%q, %q) = %d, want %d", walkOrder[i], walkOrder[j], got, want)
			}
		}
	}
}
