package fingerprint

import (
	"fmt"
	"strings"
)

// A Matcher says which paths a list of globs takes, with the rules of
// Spec.Sources: a path is taken when an include pattern matches it and
// no "!" pattern matches it or one of its parent directories. A file
// watcher uses it to decide which changes count and which directories
// are worth watching, so that what it reacts to is what Check would
// fingerprint. A Matcher is safe for concurrent use.
type Matcher struct {
	inc, exc []*pattern
}

// NewMatcher compiles globs (see Match; a leading "!" excludes). The
// only error is a malformed pattern, named in the error.
func NewMatcher(globs []string) (*Matcher, error) {
	m := &Matcher{}
	for _, g := range globs {
		neg := strings.HasPrefix(g, "!")
		p, err := compilePattern(strings.TrimPrefix(g, "!"))
		if err != nil {
			return nil, fmt.Errorf("bad pattern %q: %w", g, err)
		}
		p.raw = g
		if neg {
			m.exc = append(m.exc, p)
		} else {
			m.inc = append(m.inc, p)
		}
	}
	return m, nil
}

// Match reports whether the slash-separated path rel, relative to the
// directory the patterns are relative to, is taken.
func (m *Matcher) Match(rel string) bool {
	if len(m.inc) == 0 || excludedPath(m.exc, rel) {
		return false
	}
	for _, p := range m.inc {
		if p.match(rel) {
			return true
		}
	}
	return false
}

// Enter reports whether the directory rel ("" for the patterns' own
// directory) may hold a path that Match takes: some include pattern can
// still match below it and no "!" pattern excludes it.
func (m *Matcher) Enter(rel string) bool {
	set := startStates(m.inc)
	for el := range strings.SplitSeq(rel, "/") {
		if el == "" || el == "." {
			continue
		}
		set = step(nil, m.inc, set, el)
		if len(set) == 0 {
			return false
		}
	}
	return live(m.inc, set) && (rel == "" || !excludedPath(m.exc, rel))
}
