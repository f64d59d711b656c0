package fingerprint

import (
	"fmt"
	"path"
	"strings"
)

// A segKind says how a pattern segment matches one path element. The
// common shapes get a kind of their own so that the walk, which matches
// every file name it sees, rarely needs path.Match.
type segKind uint8

const (
	segLiteral    segKind = iota // the name equals s
	segAny                       // "*": any name
	segPrefix                    // "abc*": the name starts with s
	segSuffix                    // "*.go": the name ends with s
	segGlob                      // anything else: path.Match(s, name)
	segDoubleStar                // "**": zero or more whole names
)

// A segment is one slash-separated element of a compiled pattern.
type segment struct {
	kind segKind
	s    string
}

func (g segment) match(name string) bool {
	switch g.kind {
	case segLiteral:
		return name == g.s
	case segAny:
		return true
	case segPrefix:
		return strings.HasPrefix(name, g.s)
	case segSuffix:
		return strings.HasSuffix(name, g.s)
	case segGlob:
		ok, _ := path.Match(g.s, name) // validated when compiled
		return ok
	}
	return false // segDoubleStar is handled by the automaton, never here
}

// A pattern is a compiled glob: its segments, and done[i], which is true
// when segs[i:] are all "**", so that a path which has consumed segs[:i]
// already matches.
type pattern struct {
	raw  string
	segs []segment
	done []bool
}

// literal reports whether the pattern names one path (no wildcard at all).
func (p *pattern) literal() bool {
	for _, g := range p.segs {
		if g.kind != segLiteral {
			return false
		}
	}
	return true
}

// literalPath returns the path a literal pattern names.
func (p *pattern) literalPath() string {
	names := make([]string, len(p.segs))
	for i, g := range p.segs {
		names[i] = g.s
	}
	return strings.Join(names, "/")
}

// compilePattern compiles a source or generates glob (without its "!").
// Patterns are slash-separated and relative; "." elements and repeated
// slashes are dropped, and "**" elements in a row are one.
func compilePattern(raw string) (*pattern, error) {
	if raw == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	if strings.HasPrefix(raw, "/") {
		return nil, fmt.Errorf("pattern %q is absolute; patterns are relative to the task directory", raw)
	}
	p := &pattern{raw: raw}
	for _, el := range strings.Split(raw, "/") {
		switch el {
		case "", ".":
			continue
		case "..":
			return nil, fmt.Errorf("pattern %q leaves the task directory; \"..\" is not supported", raw)
		}
		g, err := compileSegment(el)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", raw, err)
		}
		if g.kind == segDoubleStar && len(p.segs) > 0 && p.segs[len(p.segs)-1].kind == segDoubleStar {
			continue
		}
		p.segs = append(p.segs, g)
	}
	if len(p.segs) == 0 {
		return nil, fmt.Errorf("pattern %q names the task directory itself, not files in it", raw)
	}
	p.finish()
	return p, nil
}

// finish fills p.done from p.segs.
func (p *pattern) finish() {
	p.done = make([]bool, len(p.segs)+1)
	p.done[len(p.segs)] = true
	for i := len(p.segs) - 1; i >= 0 && p.segs[i].kind == segDoubleStar; i-- {
		p.done[i] = true
	}
}

// compileSegment compiles one path element of a pattern.
func compileSegment(el string) (segment, error) {
	if el == "**" {
		return segment{kind: segDoubleStar}, nil
	}
	el = bangClasses(el)
	if _, err := path.Match(el, ""); err != nil {
		return segment{}, fmt.Errorf("bad element %q: unterminated [ or trailing \\", el)
	}
	if !strings.ContainsAny(el, `*?[\`) {
		return segment{kind: segLiteral, s: el}, nil
	}
	if strings.Trim(el, "*") == "" {
		return segment{kind: segAny}, nil
	}
	if !strings.ContainsAny(el, `?[\`) {
		// Only stars. Two shapes are common enough to special-case.
		if i := strings.LastIndexByte(el, '*'); strings.IndexByte(el, '*') == 0 && strings.Count(el, "*") == 1 {
			return segment{kind: segSuffix, s: el[i+1:]}, nil
		}
		if strings.IndexByte(el, '*') == len(el)-1 {
			return segment{kind: segPrefix, s: el[:len(el)-1]}, nil
		}
	}
	if !strings.ContainsAny(el, "*?[") {
		// Only escapes: a literal after all.
		return segment{kind: segLiteral, s: unescape(el)}, nil
	}
	return segment{kind: segGlob, s: el}, nil
}

// bangClasses rewrites the shell's negated class "[!...]" as path.Match's
// "[^...]", leaving escaped brackets alone.
func bangClasses(el string) string {
	if !strings.Contains(el, "[!") {
		return el
	}
	b := []byte(el)
	inClass := false
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\\':
			i++
		case !inClass && b[i] == '[':
			inClass = true
			if i+1 < len(b) && b[i+1] == '!' {
				b[i+1] = '^'
				i++
			}
		case inClass && b[i] == ']':
			inClass = false
		}
	}
	return string(b)
}

// unescape drops the backslashes of a pattern element that has no other
// special character.
func unescape(el string) string {
	var b strings.Builder
	for i := 0; i < len(el); i++ {
		if el[i] == '\\' && i+1 < len(el) {
			i++
		}
		b.WriteByte(el[i])
	}
	return b.String()
}

// Match reports whether the slash-separated relative path name matches
// the glob pattern, with the rules used for Spec.Sources and
// Spec.Generates (without the "!" prefix):
//
//   - "*" matches any run of characters within one path element, "?" one
//     character, "[a-z]" a class ("[^a-z]" or "[!a-z]" its complement) and
//     "\" escapes the next character;
//   - a "**" element matches zero or more whole elements, so "**/*.go"
//     matches "a.go" and "x/y/a.go", and "vendor/**" matches "vendor" and
//     everything below it; "**" inside an element ("a**") acts as "*";
//   - wildcards match names that start with a dot;
//   - "." elements and repeated slashes are ignored in both arguments.
//
// The only error is a malformed pattern (an unterminated "[", a trailing
// "\", an absolute path or a ".." element); the error names the pattern.
func Match(pattern, name string) (bool, error) {
	p, err := compilePattern(pattern)
	if err != nil {
		return false, err
	}
	return p.match(name), nil
}

// match runs the automaton over the elements of name.
func (p *pattern) match(name string) bool {
	pats := []*pattern{p}
	states := addState(nil, pats, 0, 0)
	var next []state
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." {
			continue
		}
		next = step(next[:0], pats, states, el)
		states, next = next, states
		if len(states) == 0 {
			return false
		}
	}
	for _, s := range states {
		if p.done[s.i] {
			return true
		}
	}
	return false
}

// A state of the matching automaton: pattern pats[p] has consumed its
// segments before i. A directory's state set says which patterns can
// still match below it; the walk steps it by each entry's name.
type state struct{ p, i int32 }

// addState adds (p, i) to set, with its closure: a "**" at i may match
// zero elements, so (p, i+1) belongs to the set too.
func addState(set []state, pats []*pattern, p, i int32) []state {
	segs := pats[p].segs
	for {
		for _, s := range set {
			if s.p == p && s.i == i {
				return set // already there, and so is its closure
			}
		}
		set = append(set, state{p, i})
		if int(i) < len(segs) && segs[i].kind == segDoubleStar {
			i++
			continue
		}
		return set
	}
}

// step appends to dst the states reached from src by one element, name.
func step(dst []state, pats []*pattern, src []state, name string) []state {
	for _, s := range src {
		segs := pats[s.p].segs
		if int(s.i) >= len(segs) {
			continue
		}
		g := segs[s.i]
		if g.kind == segDoubleStar {
			dst = addState(dst, pats, s.p, s.i)
		} else if g.match(name) {
			dst = addState(dst, pats, s.p, s.i+1)
		}
	}
	return dst
}

// completes returns the highest pattern index that matches the path of
// src's directory joined with name, or -1. ok filters the patterns that
// may count (nil: all).
func completes(pats []*pattern, src []state, name string, ok func(p int32) bool) int32 {
	best := int32(-1)
	for _, s := range src {
		if s.p <= best {
			continue
		}
		pat := pats[s.p]
		if int(s.i) >= len(pat.segs) {
			continue
		}
		var hit bool
		if g := pat.segs[s.i]; g.kind == segDoubleStar {
			hit = pat.done[s.i]
		} else {
			hit = pat.done[s.i+1] && g.match(name)
		}
		if hit && (ok == nil || ok(s.p)) {
			best = s.p
		}
	}
	return best
}

// live reports whether some state can still match a path below its
// directory.
func live(pats []*pattern, set []state) bool {
	for _, s := range set {
		if int(s.i) < len(pats[s.p].segs) {
			return true
		}
	}
	return false
}

// startStates returns the initial state set of pats.
func startStates(pats []*pattern) []state {
	var set []state
	for p := range pats {
		set = addState(set, pats, int32(p), 0)
	}
	return set
}
