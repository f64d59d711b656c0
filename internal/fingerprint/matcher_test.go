package fingerprint

import "testing"

func TestMatcher(t *testing.T) {
	m, err := NewMatcher([]string{"**/*.go", "go.mod", "!**/*_test.go", "!vendor"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path  string
		match bool
	}{
		{"a.go", true},
		{"x/y/a.go", true},
		{"go.mod", true},
		{"x/go.mod", false},
		{"a_test.go", false},
		{"x/a_test.go", false},
		{"vendor/a.go", false},
		{"vendor/x/a.go", false},
		{"a.txt", false},
	} {
		if got := m.Match(tc.path); got != tc.match {
			t.Errorf("Match(%q) = %v, want %v", tc.path, got, tc.match)
		}
	}
	for _, tc := range []struct {
		dir   string
		enter bool
	}{
		{"", true},
		{"x", true},
		{"x/y", true},
		{"vendor", false},
		{"vendor/x", false},
	} {
		if got := m.Enter(tc.dir); got != tc.enter {
			t.Errorf("Enter(%q) = %v, want %v", tc.dir, got, tc.enter)
		}
	}
	src, err := NewMatcher([]string{"src/*.c"})
	if err != nil {
		t.Fatal(err)
	}
	if !src.Enter("src") || src.Enter("doc") || src.Enter("src/sub") {
		t.Errorf("src/*.c: Enter(src)=%v Enter(doc)=%v Enter(src/sub)=%v, want true false false",
			src.Enter("src"), src.Enter("doc"), src.Enter("src/sub"))
	}
	if _, err := NewMatcher([]string{"a/[b"}); err == nil {
		t.Error("NewMatcher(a/[b) succeeded, want an error")
	}
}
