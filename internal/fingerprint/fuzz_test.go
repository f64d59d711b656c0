package fingerprint

import (
	"path"
	"strings"
	"testing"
)

// FuzzMatch checks that Match never panics, agrees with a plain
// recursive matcher built on path.Match, and treats "**" consistently.
// Its seed corpus is in testdata/fuzz/FuzzMatch.
func FuzzMatch(f *testing.F) {
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got, err := Match(pattern, name)
		if err != nil {
			if got {
				t.Fatalf("Match(%q, %q) = true with error %v", pattern, name, err)
			}
			return
		}
		if strings.Count(pattern, "**") <= 6 {
			if want := refMatch(elements(pattern), elements(name)); got != want {
				t.Fatalf("Match(%q, %q) = %v, reference matcher says %v", pattern, name, got, want)
			}
		}
		mustMatch := func(p, n string, want bool) {
			t.Helper()
			if m, err := Match(p, n); err != nil || m != want {
				t.Fatalf("Match(%q, %q) = %v, %v; want %v since Match(%q, %q) = %v", p, n, m, err, want, pattern, name, got)
			}
		}
		mustMatch("**", name, true)
		if got {
			mustMatch("**/"+pattern, name, true)
			mustMatch(pattern+"/**", name, true)
			mustMatch("**/"+pattern, "x/y/"+name, true)
			mustMatch("x/**/"+pattern, "x/"+name, true)
			mustMatch(pattern+"/**", name+"/z", true)
			mustMatch(pattern+"/**/**", name+"/y/z", true)
		}
	})
}

// elements splits a path or pattern as Match does.
func elements(s string) []string {
	var els []string
	for _, el := range strings.Split(s, "/") {
		if el != "" && el != "." {
			els = append(els, el)
		}
	}
	return els
}

// refMatch is the obvious recursive matcher.
func refMatch(pat, names []string) bool {
	if len(pat) == 0 {
		return len(names) == 0
	}
	if pat[0] == "**" {
		return refMatch(pat[1:], names) || (len(names) > 0 && refMatch(pat, names[1:]))
	}
	if len(names) == 0 {
		return false
	}
	ok, _ := path.Match(bangClasses(pat[0]), names[0])
	return ok && refMatch(pat[1:], names[1:])
}
