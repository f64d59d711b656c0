package responder

import (
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// unbounded is what maxMatchLen returns for a pattern whose matches have
// no length limit.
const unbounded = -1

// maxBoundedLen caps maxMatchLen: a bound larger than this is as good as
// none, since the window limits what is kept anyway.
const maxBoundedLen = 1 << 20

// A plan is what the matchers of one pattern share.
type plan struct {
	re *regexp.Regexp
	// viable matches, read backwards from the end of a text, the longest
	// suffix of it that a match of re could still begin with. It is
	// anchored, so it reads no further back than that suffix and the
	// longest part of a match it could belong to. Nil when it cannot be
	// built; the window alone then bounds what is kept.
	viable *regexp.Regexp
	keep   int // the most bytes of scanned output worth keeping
}

// newPlan prepares to match re, keeping at most window bytes of scanned
// output between chunks.
func newPlan(re *regexp.Regexp, window int) *plan {
	p := &plan{re: re, keep: window}
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return p
	}
	tree = tree.Simplify()
	if n := maxMatchLen(tree); n != unbounded {
		p.keep = min(max(n-1, 0), window)
	}
	v := &syntax.Regexp{Op: syntax.OpConcat, Sub: []*syntax.Regexp{
		{Op: syntax.OpBeginText},
		reverse(prefixes(relax(tree))),
	}}
	// syntax.Regexp.String takes milliseconds on a class such as [^:],
	// so the regexp is written out here instead.
	var b strings.Builder
	writeRegexp(&b, v)
	if p.viable, err = regexp.Compile(b.String()); err == nil {
		p.viable.Longest()
	}
	return p
}

// writeRegexp writes re in a syntax that regexp.Compile reads back as re.
// It handles the operators that newPlan's regexps are made of.
func writeRegexp(b *strings.Builder, re *syntax.Regexp) {
	group := func(sub *syntax.Regexp, suffix string) {
		b.WriteString("(?:")
		writeRegexp(b, sub)
		b.WriteString(")" + suffix)
	}
	switch re.Op {
	case syntax.OpNoMatch:
		b.WriteString(`[^\x00-\x{10FFFF}]`)
	case syntax.OpEmptyMatch:
		b.WriteString("(?:)")
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			b.WriteString("(?i:")
		} else {
			b.WriteString("(?:")
		}
		for _, r := range re.Rune {
			fmt.Fprintf(b, `\x{%x}`, r)
		}
		b.WriteString(")")
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			b.WriteString(`[^\x00-\x{10FFFF}]`)
			return
		}
		b.WriteString("[")
		for i := 0; i < len(re.Rune); i += 2 {
			fmt.Fprintf(b, `\x{%x}-\x{%x}`, re.Rune[i], re.Rune[i+1])
		}
		b.WriteString("]")
	case syntax.OpAnyCharNotNL:
		b.WriteString(`[^\n]`)
	case syntax.OpAnyChar:
		b.WriteString(`(?s:.)`)
	case syntax.OpCapture:
		group(re.Sub[0], "")
	case syntax.OpStar:
		group(re.Sub[0], "*")
	case syntax.OpPlus:
		group(re.Sub[0], "+")
	case syntax.OpQuest:
		group(re.Sub[0], "?")
	case syntax.OpRepeat:
		if re.Max < 0 {
			group(re.Sub[0], fmt.Sprintf("{%d,}", re.Min))
		} else {
			group(re.Sub[0], fmt.Sprintf("{%d,%d}", re.Min, re.Max))
		}
	case syntax.OpConcat:
		b.WriteString("(?:")
		for _, sub := range re.Sub {
			writeRegexp(b, sub)
		}
		b.WriteString(")")
	case syntax.OpAlternate:
		b.WriteString("(?:")
		for i, sub := range re.Sub {
			if i > 0 {
				b.WriteString("|")
			}
			writeRegexp(b, sub)
		}
		b.WriteString(")")
	default:
		// An assertion: relax removed them all, so this cannot happen;
		// matching nothing would be wrong, matching empty is safe.
		b.WriteString("(?:)")
	}
}

// A matcher finds the matches of one pattern in one stream, chunk by chunk.
//
// It keeps only the tail of the output that a match could still begin
// with, so each chunk costs the chunk plus that tail, never the whole
// output: the tail is the part that plan.viable matches, or shorter than
// plan.keep bytes, whichever is shorter (plus up to three bytes of an
// unfinished UTF-8 sequence).
type matcher struct {
	*plan
	buf []byte // the kept tail followed by the newest chunk
	off int64  // stream offset of buf[0]

	// scanned counts the bytes handed to the regexps, so that tests can
	// check that cost is linear in the output.
	scanned int64
}

// feed scans chunk, together with the kept tail, and appends to dst the
// stream offsets [start, end) of every new non-empty match, in order.
// Matched bytes are consumed: no later match can overlap them.
func (m *matcher) feed(chunk []byte, dst [][2]int64) [][2]int64 {
	m.buf = append(m.buf, chunk...)
	// A chunk may end inside a multi-byte character. Scanning its first
	// bytes now would show the regexp an invalid byte that is not in the
	// output, so they wait for the next chunk.
	end := len(m.buf) - incompleteSuffix(m.buf)
	text := m.buf[:end]
	m.scanned += int64(end)

	consumed := 0
	for _, loc := range m.re.FindAllIndex(text, -1) {
		if loc[0] == loc[1] {
			continue // an empty match is never a prompt
		}
		dst = append(dst, [2]int64{m.off + int64(loc[0]), m.off + int64(loc[1])})
		consumed = loc[1]
	}

	// Keep only what a later match can still use: bytes not consumed, no
	// more than keep of them, starting on a character, from the first
	// place where a match could begin and run past the end.
	t := runeBoundary(m.buf, max(consumed, end-m.keep))
	if m.viable != nil {
		r := &backward{b: text[t:]}
		if loc := m.viable.FindReaderIndex(r); loc != nil {
			t = end - loc[1]
		}
		m.scanned += int64(r.read)
	}
	n := copy(m.buf, m.buf[t:])
	m.buf = m.buf[:n]
	m.off += int64(t)
	if cap(m.buf) > 64<<10 && cap(m.buf) > 4*len(m.buf) {
		// Do not hold on to the memory of one huge chunk.
		m.buf = append([]byte(nil), m.buf...)
	}
	return dst
}

// backward reads the runes of a text from its end to its start.
type backward struct {
	b    []byte
	read int // bytes read so far
}

func (r *backward) ReadRune() (rune, int, error) {
	if len(r.b) == 0 {
		return 0, 0, io.EOF
	}
	c, n := utf8.DecodeLastRune(r.b)
	r.b = r.b[:len(r.b)-n]
	r.read += n
	return c, n, nil
}

// received returns the stream offset just past the last byte fed.
func (m *matcher) received() int64 {
	return m.off + int64(len(m.buf))
}

// incompleteSuffix returns the length of the unfinished UTF-8 sequence
// that b ends with, or 0.
func incompleteSuffix(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return len(b) - i
			}
			return 0
		}
	}
	return 0
}

// runeBoundary returns p, or, when p falls inside a character of b as the
// regexp package decodes it, the offset just past that character.
func runeBoundary(b []byte, p int) int {
	if p >= len(b) || utf8.RuneStart(b[p]) {
		return p
	}
	for q := p - 1; q >= 0 && q > p-utf8.UTFMax; q-- {
		if utf8.RuneStart(b[q]) {
			if _, w := utf8.DecodeRune(b[q:]); q+w > p {
				return q + w
			}
			return p
		}
	}
	return p
}

// maxMatchLen returns the longest text re can match, in bytes, or
// unbounded. It may overestimate, never underestimate.
func maxMatchLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpEmptyMatch,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				n += utf8.UTFMax // a case variant may be longer
			} else {
				n += runeLen(r)
			}
		}
		return n
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 0
		}
		return runeLen(re.Rune[len(re.Rune)-1])
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture, syntax.OpQuest:
		return maxMatchLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		if maxMatchLen(re.Sub[0]) == 0 {
			return 0
		}
		return unbounded
	case syntax.OpRepeat:
		n := maxMatchLen(re.Sub[0])
		switch {
		case n == 0:
			return 0
		case n == unbounded || re.Max < 0 || re.Max > maxBoundedLen/n:
			return unbounded
		}
		return n * re.Max
	case syntax.OpConcat:
		total := 0
		for _, sub := range re.Sub {
			n := maxMatchLen(sub)
			if n == unbounded {
				return unbounded
			}
			total += n
			if total > maxBoundedLen {
				return unbounded
			}
		}
		return total
	case syntax.OpAlternate:
		longest := 0
		for _, sub := range re.Sub {
			n := maxMatchLen(sub)
			if n == unbounded {
				return unbounded
			}
			longest = max(longest, n)
		}
		return longest
	}
	return unbounded
}

// runeLen returns the longest encoding of any rune up to r: what a
// character class whose highest rune is r can match.
func runeLen(r rune) int {
	switch {
	case r < utf8.RuneSelf:
		return 1
	case r < 0x800:
		return 2
	case r < 0x10000:
		return 3
	}
	return utf8.UTFMax
}

// relax returns a copy of re with every assertion (^, $, \b...) replaced
// by an empty match, so that it matches all that re matches, and more.
func relax(re *syntax.Regexp) *syntax.Regexp {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return &syntax.Regexp{Op: syntax.OpEmptyMatch}
	}
	c := *re
	c.Sub = make([]*syntax.Regexp, len(re.Sub))
	for i, sub := range re.Sub {
		c.Sub[i] = relax(sub)
	}
	return &c
}

// reverse returns a regexp that matches the reverse of each text that re
// matches, read rune by rune. It assumes re has no assertions.
func reverse(re *syntax.Regexp) *syntax.Regexp {
	c := *re
	c.Sub = make([]*syntax.Regexp, len(re.Sub))
	for i, sub := range re.Sub {
		c.Sub[i] = reverse(sub)
	}
	switch re.Op {
	case syntax.OpConcat:
		slices.Reverse(c.Sub)
	case syntax.OpLiteral:
		c.Rune = slices.Clone(re.Rune)
		slices.Reverse(c.Rune)
	}
	return &c
}

// prefixes returns a regexp that matches every prefix of every text that
// re matches. It assumes re has no assertions.
func prefixes(re *syntax.Regexp) *syntax.Regexp {
	node := func(op syntax.Op, sub ...*syntax.Regexp) *syntax.Regexp {
		return &syntax.Regexp{Op: op, Flags: re.Flags, Sub: sub}
	}
	switch re.Op {
	case syntax.OpLiteral:
		// abc -> (?:a(?:b(?:c)?)?)?
		var p *syntax.Regexp
		for i := len(re.Rune) - 1; i >= 0; i-- {
			lit := &syntax.Regexp{Op: syntax.OpLiteral, Flags: re.Flags, Rune: []rune{re.Rune[i]}}
			if p != nil {
				lit = node(syntax.OpConcat, lit, p)
			}
			p = node(syntax.OpQuest, lit)
		}
		if p != nil {
			return p
		}
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return node(syntax.OpQuest, re)
	case syntax.OpCapture, syntax.OpQuest:
		return prefixes(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return node(syntax.OpConcat, node(syntax.OpStar, re.Sub[0]), prefixes(re.Sub[0]))
	case syntax.OpRepeat:
		switch {
		case re.Max < 0:
			return node(syntax.OpConcat, node(syntax.OpStar, re.Sub[0]), prefixes(re.Sub[0]))
		case re.Max > 0:
			rep := node(syntax.OpRepeat, re.Sub[0])
			rep.Min, rep.Max = 0, re.Max-1
			return node(syntax.OpConcat, rep, prefixes(re.Sub[0]))
		}
	case syntax.OpConcat:
		// P(s1 s2 ... sn) = P(s1) | s1 P(s2 ... sn)
		p := prefixes(re.Sub[len(re.Sub)-1])
		for i := len(re.Sub) - 2; i >= 0; i-- {
			p = node(syntax.OpAlternate, prefixes(re.Sub[i]), node(syntax.OpConcat, re.Sub[i], p))
		}
		return p
	case syntax.OpAlternate:
		alt := node(syntax.OpAlternate)
		for _, sub := range re.Sub {
			alt.Sub = append(alt.Sub, prefixes(sub))
		}
		return alt
	}
	// Empty-width assertions, empty and impossible matches.
	return &syntax.Regexp{Op: syntax.OpEmptyMatch}
}
