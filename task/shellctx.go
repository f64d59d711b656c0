package task

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// A {{.name}} in a shell command is rendered for the place where it
// stands, so that the value reaches the command as its exact text and is
// never code. The command is parsed once (only if it holds a placeholder)
// with each placeholder replaced by a sentinel word, and the sentinel's
// place in the syntax tree decides how values are written there:
//
//	unquoted word      echo {{.v}}          a single-quoted word: 'v'
//	single quotes      echo 'a {{.v}} b'    the quotes closed and reopened: 'a '"'v'"' b'
//	double quotes      echo "a {{.v}} b"    $ ` " \ escaped with a backslash
//	${X:-word} etc.    ${X:-{{.v}}}         "${V}", V a shell variable that holds v
//	here-document      <<EOF ... {{.v}}     ${V}
//	quoted here-doc    <<'EOF' ... {{.v}}   the raw text; a line equal to EOF is refused
//	arithmetic         $(({{.v}} + 1))      only an integer
//	comment            # {{.v}}             the text, newlines made spaces
//
// Places where no value can be made safe are refused before anything
// runs: a variable, function or loop name, a here-document delimiter,
// backquotes (use $(...)), a backslash right before the placeholder.

// holeKind is the shell context a placeholder stands in.
type holeKind uint8

const (
	holeWord          holeKind = iota // an unquoted word, or part of one
	holeSingle                        // inside '...'
	holeDollarSingle                  // inside bash's $'...'
	holeDouble                        // inside "..."
	holeParam                         // the word of ${X:-word}, ${X#word}, ${X/a/b}
	holeParamQuoted                   // the same, inside double quotes within the ${...}
	holeHeredoc                       // the body of an unquoted here-document
	holeQuotedHeredoc                 // the body of <<'EOF'
	holeArith                         // $((...)), ((...)), ${a[i]}, ${a:i:j}, for ((...))
	holeArithWord                     // an arithmetic operand written as a word: let, [[ -eq ]]
	holeComment                       // a # comment
	holeUnknown                       // not placed (yet)
)

// maxCommandLine is the longest command gotask hands to a shell: Linux
// refuses an argv string of MAX_ARG_STRLEN (128 KiB, with its NUL) or more.
const maxCommandLine = 128*1024 - 1

// hole is one placeholder of a shell template.
type hole struct {
	name       string
	kind       holeKind
	start, end int // the sentinel, in shellTemplate.src
	at         int // the placeholder, in the original command
	quote      bool
	words      bool     // holeWord: a whole argument, where a list stands as several words
	lineStart  bool     // holeQuotedHeredoc: the first thing on its line
	doc        *heredoc // holeQuotedHeredoc: which here-document
}

// heredoc is a here-document with a quoted delimiter that holds
// placeholders: its body is checked after substitution.
type heredoc struct {
	delim      string
	dash       bool // <<-: leading tabs are stripped
	start, end int  // the body in src, without the delimiter line
}

// shellTemplate is a shell command with its placeholders placed.
type shellTemplate struct {
	src     string   // the command, each placeholder a sentinel word
	holes   []hole   // in order
	actions []action // every {{...}}, to map offsets in src back
}

// action is where a {{...}} stood in the command and in src.
type action struct{ src, srcEnd, orig, origEnd int }

// templates caches the analysis of shell commands, keyed by their text.
type templates struct{ m sync.Map }

type cachedTemplate struct {
	t   *shellTemplate
	err error
}

// get returns the analysed template of command, analysing it on first use.
func (c *templates) get(command string) (*shellTemplate, error) {
	if v, ok := c.m.Load(command); ok {
		ct := v.(*cachedTemplate)
		return ct.t, ct.err
	}
	t, err := parseShellTemplate(command)
	c.m.Store(command, &cachedTemplate{t, err})
	return t, err
}

// parseShellTemplate finds every placeholder of command and the shell
// context it stands in.
func parseShellTemplate(command string) (*shellTemplate, error) {
	t := &shellTemplate{}
	if !strings.Contains(command, "{{") {
		t.src = command
		return t, nil
	}
	prefix := "GoTaskPlaceholder"
	for strings.Contains(command, prefix) {
		prefix += "X"
	}
	var b strings.Builder
	s := command
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		at := len(command) - len(s) + i
		name, literal, rest, err := parseAction(s[i:])
		if err != nil {
			return nil, err
		}
		s = rest
		start := b.Len()
		if literal {
			b.WriteString(name)
		} else {
			fmt.Fprintf(&b, "%s%d_", prefix, len(t.holes))
			t.holes = append(t.holes, hole{name: name, start: start, end: b.Len(), at: at})
		}
		t.actions = append(t.actions, action{src: start, srcEnd: b.Len(), orig: at, origEnd: len(command) - len(s)})
	}
	t.src = b.String()
	if len(t.holes) == 0 {
		return t, nil
	}
	// Commands run through sh (dash) here and often bash on hosts: the
	// command is read with both grammars, and every placeholder must land
	// where a rendering is safe for both.
	parse := func(lang syntax.LangVariant) (*syntax.File, error) {
		return syntax.NewParser(syntax.KeepComments(true), syntax.Variant(lang)).Parse(strings.NewReader(t.src), "")
	}
	bash, errBash := parse(syntax.LangBash)
	posix, errPOSIX := parse(syntax.LangPOSIX)
	if errBash != nil && errPOSIX != nil {
		return nil, t.syntaxError(command, errBash)
	}
	var placed [][]hole
	for i, f := range []*syntax.File{bash, posix} {
		if f == nil {
			continue
		}
		holes := slices.Clone(t.holes)
		// A place only bash knows, such as ${X/a/b}, is one that dash
		// refuses as a bad substitution: bash's rendering stands.
		if err := t.place(command, f, holes, i == 0 || bash == nil); err != nil {
			return nil, err
		}
		placed = append(placed, holes)
	}
	t.holes = placed[0]
	if len(placed) == 2 {
		for i := range t.holes {
			if err := t.holes[i].merge(placed[1][i]); err != nil {
				return nil, t.placeError(command, i, err.Error())
			}
		}
	}
	return t, nil
}

// place fills in the kind of each of holes from the parsed command f. If
// all is set, every hole must be placed; others are left holeUnknown.
func (t *shellTemplate) place(command string, f *syntax.File, holes []hole, all bool) error {
	for i := range holes {
		holes[i].kind = holeUnknown
	}
	a := &analysis{t: t, holes: holes, placed: make([]bool, len(holes)), errAt: -1}
	syntax.Walk(f, a.visit)
	switch {
	case a.err != nil && a.errAt >= 0:
		line, col := lineCol(command, t.origOffset(a.errAt))
		return &PlaceError{Line: line, Col: col, Msg: a.err.Error()}
	case a.err != nil:
		return t.placeError(command, a.errHole, a.err.Error())
	}
	for i, ok := range a.placed {
		if !ok && all {
			return t.placeError(command, i, "gotask cannot tell how the shell reads this place; move the placeholder into a plain or quoted word")
		}
	}
	return nil
}

// merge makes h, placed by the bash grammar, safe also where the POSIX
// grammar (dash) placed it as o.
func (h *hole) merge(o hole) error {
	h.quote = h.quote || o.quote
	switch {
	case o.kind == holeUnknown:
		return nil
	case h.kind == o.kind:
		h.words = h.words && o.words
		return nil
	case h.kind == holeDollarSingle && o.kind == holeSingle:
		return nil // dash reads $'...' as $ and '...': the value stays quoted
	case (h.kind == holeArith || h.kind == holeArithWord) && (o.kind == holeWord || o.kind == holeDouble):
		return nil // bash arithmetic such as ((...)) or let: digits are safe words
	}
	return errors.New("stands where bash and sh (dash) read the command differently, so no one rendering is safe for both; rewrite the command in plain POSIX shell")
}

// syntaxError reports a command the shell parser refused, at its place in
// the original command.
func (t *shellTemplate) syntaxError(command string, err error) error {
	var pe syntax.ParseError
	msg := err.Error()
	off := -1
	if errors.As(err, &pe) {
		msg, off = pe.Text, int(pe.Pos.Offset())
	}
	e := &PlaceError{Msg: "cannot parse the command to place its placeholders safely: " + msg}
	if off >= 0 {
		e.Line, e.Col = lineCol(command, t.origOffset(off))
	}
	return e
}

func (t *shellTemplate) placeError(command string, i int, msg string) error {
	h := t.holes[i]
	line, col := lineCol(command, h.at)
	return &PlaceError{Name: h.name, Line: line, Col: col, Msg: msg}
}

// origOffset maps an offset in src back to the original command: an
// offset within a {{...}} maps to its start.
func (t *shellTemplate) origOffset(off int) int {
	shift := 0
	for _, a := range t.actions {
		switch {
		case off < a.src:
			return off + shift
		case off < a.srcEnd:
			return a.orig
		}
		shift = a.origEnd - a.srcEnd
	}
	return off + shift
}

func lineCol(s string, off int) (line, col int) {
	off = min(max(off, 0), len(s))
	line = 1 + strings.Count(s[:off], "\n")
	return line, off - strings.LastIndexByte(s[:off], '\n')
}
