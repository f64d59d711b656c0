package task

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"

	"github.com/gotask/gotask/internal/shell"
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

// PlaceError is a placeholder that stands where no value can be made
// safe, or a command gotask cannot parse to find out.
type PlaceError struct {
	Name      string // the placeholder's name; "" for a syntax error
	Line, Col int    // 1-based, within the command
	Msg       string
}

func (e *PlaceError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("line %d, column %d of the command: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("{{.%s}} at line %d, column %d of the command: %s", e.Name, e.Line, e.Col, e.Msg)
}

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
	case h.kind == o.kind, o.kind == holeUnknown:
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

// analysis walks a parsed command and places each hole.
type analysis struct {
	t       *shellTemplate
	holes   []hole
	stack   []syntax.Node
	placed  []bool
	err     error
	errHole int
	errAt   int // where err is, in src, when it is no hole's
}

func (a *analysis) visit(n syntax.Node) bool {
	if n == nil {
		a.stack = a.stack[:len(a.stack)-1]
		return true
	}
	a.stack = append(a.stack, n)
	if a.err != nil {
		return false
	}
	start, end := int(n.Pos().Offset()), int(n.End().Offset())
	switch n := n.(type) {
	case *syntax.SglQuoted:
		if n.Dollar && strings.Contains(a.t.src[start:end], `\'`) {
			// bash ends $'it\'s' at the last quote, dash at the middle
			// one: the two would disagree about all that follows.
			a.err, a.errAt = errors.New(`bash and sh (dash) read a \' inside $'...' differently, so gotask cannot tell where a value would land; write \x27 or use "..."`), start
			return false
		}
	case *syntax.Lit, *syntax.Comment:
	default:
		return true
	}
	for i := range a.holes {
		h := &a.holes[i]
		if a.placed[i] || h.start < start || h.end > end {
			continue
		}
		a.placed[i] = true
		if err := a.place(h, start); err != nil {
			a.err, a.errHole = err, i
			return false
		}
	}
	return true
}

// place decides the kind of h, which lies in the innermost node of the
// stack, a node that starts at start.
func (a *analysis) place(h *hole, start int) error {
	src := a.t.src
	node := a.stack[len(a.stack)-1]
	for _, n := range a.stack {
		if cs, ok := n.(*syntax.CmdSubst); ok && cs.Backquotes {
			return errors.New("stands inside backquotes (`...`), where no value can be quoted safely; write $(...) instead")
		}
	}
	escaped := func() bool {
		n := 0
		for i := h.start - 1; i >= start && src[i] == '\\'; i-- {
			n++
		}
		return n%2 == 1
	}
	switch node := node.(type) {
	case *syntax.Comment:
		h.kind = holeComment
		return nil
	case *syntax.SglQuoted:
		h.kind = holeSingle
		if node.Dollar {
			h.kind = holeDollarSingle
			if escaped() {
				return errBackslash
			}
		}
		return a.checkArith(h)
	}
	// A Lit: it must be (part of) a word, not a name.
	if len(a.stack) < 2 {
		return errors.New("stands where the shell expects a name")
	}
	switch p := a.stack[len(a.stack)-2].(type) {
	case *syntax.Word, *syntax.DblQuoted:
	default:
		return fmt.Errorf("stands where the shell expects a name (%s), which no value may choose", describeNode(p))
	}
	var child = node
	var double, param, paramQuoted, arith, arithWord, doc, quotedDoc, test bool
	for i := len(a.stack) - 2; i >= 0; i-- {
		n := a.stack[i]
		if _, ok := n.(*syntax.CmdSubst); ok {
			break // a new command: what lies outside does not matter
		}
		if _, ok := n.(*syntax.ProcSubst); ok {
			break
		}
		switch n := n.(type) {
		case *syntax.DblQuoted:
			double = true
		case *syntax.ParamExp:
			if n.Index == child || n.Slice != nil && (n.Slice.Offset == child || n.Slice.Length == child) {
				arith = true
			} else if !param {
				param, paramQuoted = true, double
			}
		case *syntax.ArithmExp, *syntax.ArithmCmd, *syntax.CStyleLoop:
			arith = true
		case *syntax.LetClause:
			arithWord = true
		case *syntax.TestClause:
			test = true
		case *syntax.UnaryTest:
			if n.Op == syntax.TsVarSet || n.Op == syntax.TsRefVar {
				return errNameSink
			}
		case *syntax.DeclClause:
			if as, ok := child.(*syntax.Assign); ok && as.Naked {
				return errNameSink // a name, or an option such as -i
			}
			if declFlag(n, 'i') {
				arith = true // declare -i evaluates the value as arithmetic
			}
			if declFlag(n, 'n') {
				return errNameSink // a nameref's value is a name
			}
		case *syntax.CallExpr:
			if err := callSink(n, child); err != nil {
				return err
			}
		case *syntax.BinaryTest:
			switch n.Op {
			case syntax.TsEql, syntax.TsNeq, syntax.TsLeq, syntax.TsGeq, syntax.TsLss, syntax.TsGtr:
				arithWord = true
			}
		case *syntax.Assign:
			arith = arith || n.Index == child
		case *syntax.ArrayElem:
			arith = arith || n.Index == child
		case *syntax.Redirect:
			if child == n.Hdoc {
				var err error
				if quotedDoc, err = a.heredoc(h, n); err != nil {
					return err
				}
				doc = true
			} else if n.Op == syntax.Hdoc || n.Op == syntax.DashHdoc {
				return errors.New("stands in a here-document's delimiter, which no value may choose")
			}
		}
		child = n
	}
	switch {
	case quotedDoc:
		h.kind = holeQuotedHeredoc
		return nil // a backslash is no escape there
	case arith || arithWord:
		// Digits stand as they are inside quotes and in $((...)); a
		// negative number is parenthesised, and quoted where it is a word.
		h.kind = holeArith
		if arithWord && !arith && !double {
			h.kind = holeArithWord
		}
	case param && doc:
		return errors.New("stands in ${...} inside a here-document, where shells disagree on quotes; set a variable before the here-document and use it there")
	case paramQuoted:
		h.kind = holeParamQuoted
	case param:
		h.kind = holeParam
	case double:
		h.kind = holeDouble
	case doc:
		h.kind = holeHeredoc
	default:
		h.kind = holeWord
		// After a tilde a bare word would name a home directory, before
		// a redirection digits would name a file descriptor, and in [[ ]]
		// a bare -n would be an operator.
		h.quote = test || h.start > start && src[h.start-1] == '~' ||
			h.end < len(src) && (src[h.end] == '<' || src[h.end] == '>')
	}
	if escaped() {
		return errBackslash
	}
	return nil
}

var errNameSink = errors.New("stands where bash reads a variable name, and evaluates code in its subscript; pass the value in the environment (env) and use $VAR instead")

// declFlag reports whether a declare, local, export... has an option
// word holding flag, such as -i.
func declFlag(d *syntax.DeclClause, flag byte) bool {
	for _, as := range d.Args {
		if as.Naked && as.Value != nil && len(as.Value.Parts) == 1 {
			if l, ok := as.Value.Parts[0].(*syntax.Lit); ok && strings.HasPrefix(l.Value, "-") && strings.IndexByte(l.Value, flag) > 0 {
				return true
			}
		}
	}
	return false
}

// callSink refuses a value as an argument that a builtin runs as code
// (eval, trap) or reads as a variable name (unset, printf -v, test -v),
// where bash would run code in a subscript such as a[$(cmd)].
func callSink(c *syntax.CallExpr, arg syntax.Node) error {
	lit := func(i int) string {
		if i < 0 || i >= len(c.Args) {
			return ""
		}
		return c.Args[i].Lit()
	}
	at := -1
	for i, w := range c.Args {
		if w == arg {
			at = i
		}
	}
	if at <= 0 {
		return nil
	}
	switch lit(0) {
	case "eval", "trap":
		return fmt.Errorf("is an argument of %s, which runs it as code", lit(0))
	case "unset":
		return errNameSink
	case "printf":
		if lit(at-1) == "-v" {
			return errNameSink
		}
	case "test", "[":
		if lit(at-1) == "-v" || lit(at-1) == "-R" {
			return errNameSink
		}
	}
	return nil
}

var errBackslash = errors.New("a backslash right before the placeholder would escape the first character of the value; remove the backslash")

// checkArith makes a hole in a single-quoted string inside arithmetic an
// arithmetic hole (the shell evaluates the text after quote removal), and
// refuses one in "${X:-'...'}" or in ${...} in a here-document, where
// single quotes are quotes to some shells and plain characters to others.
func (a *analysis) checkArith(h *hole) error {
	param := false
	var child syntax.Node = a.stack[len(a.stack)-1]
	for i := len(a.stack) - 2; i >= 0; i-- {
		switch n := a.stack[i].(type) {
		case *syntax.CmdSubst, *syntax.ProcSubst:
			return nil
		case *syntax.ArithmExp, *syntax.ArithmCmd, *syntax.LetClause, *syntax.CStyleLoop:
			h.kind = holeArith
			return nil
		case *syntax.ParamExp:
			param = true
		case *syntax.DblQuoted:
			if param {
				return errSingleInParam
			}
		case *syntax.Redirect:
			if param && child == n.Hdoc {
				return errSingleInParam
			}
		}
		child = a.stack[i]
	}
	return nil
}

var errSingleInParam = errors.New(`stands in single quotes inside "${...}" (or ${...} in a here-document), which some shells read as quotes and others as plain characters; write "${X:-{{.name}}}" without the single quotes`)

// heredoc places h in the body of the here-document of r and says
// whether its delimiter is quoted (the body then is raw text).
func (a *analysis) heredoc(h *hole, r *syntax.Redirect) (bool, error) {
	quoted := false
	var delim strings.Builder
	for _, p := range r.Word.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if strings.Contains(p.Value, `\`) {
				quoted = true
			}
			delim.WriteString(strings.ReplaceAll(p.Value, `\`, ""))
		case *syntax.SglQuoted:
			quoted = true
			delim.WriteString(p.Value)
		case *syntax.DblQuoted:
			quoted = true
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return false, errUnreadableDelim
				}
				delim.WriteString(l.Value)
			}
		default:
			return false, errUnreadableDelim
		}
	}
	if !quoted {
		return false, nil
	}
	start := int(r.Hdoc.Pos().Offset())
	body := a.t.src[start:r.Hdoc.End().Offset()]
	// The body ends before its delimiter line, if it has one.
	end := start + len(body)
	last := body[strings.LastIndexByte(body, '\n')+1:]
	if r.Op == syntax.DashHdoc {
		last = strings.TrimLeft(last, "\t")
	}
	if last == delim.String() {
		end = start + max(strings.LastIndexByte(body, '\n'), 0)
	}
	h.doc = &heredoc{delim: delim.String(), dash: r.Op == syntax.DashHdoc, start: start, end: end}
	h.lineStart = h.start == 0 || a.t.src[h.start-1] == '\n'
	if h.doc.dash {
		i := h.start
		for i > 0 && a.t.src[i-1] == '\t' {
			i--
		}
		h.lineStart = i == 0 || a.t.src[i-1] == '\n'
	}
	return true, nil
}

var errUnreadableDelim = errors.New("stands in a here-document whose delimiter gotask cannot read; use a plain word such as 'EOF'")

func describeNode(n syntax.Node) string {
	switch n.(type) {
	case *syntax.ParamExp:
		return "a parameter name: ${{{.x}}} or $X{{.x}}"
	case *syntax.Assign, *syntax.DeclClause:
		return "a variable name"
	case *syntax.FuncDecl:
		return "a function name"
	case *syntax.WordIter:
		return "a loop variable"
	case *syntax.Redirect:
		return "a file descriptor"
	case *syntax.ExtGlob:
		return "an extended glob pattern"
	}
	return fmt.Sprintf("%T", n)
}

// ValueError is a value that cannot stand where its placeholder stands:
// a non-integer in arithmetic, a line that would end a here-document, a
// NUL byte, or a command too long for a command line.
type ValueError struct {
	Name string // the placeholder
	Msg  string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("value of {{.%s}} %s", e.Name, e.Msg)
}

// render substitutes lookup's values into the template.
func (t *shellTemplate) render(lookup func(string) (string, bool)) (string, error) {
	if len(t.holes) == 0 {
		return t.src, nil
	}
	values := make([]string, len(t.holes))
	for i, h := range t.holes {
		v, ok := lookup(h.name)
		if !ok {
			return "", fmt.Errorf("unknown name {{.%s}}", h.name)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return "", &ValueError{Name: h.name, Msg: "holds a NUL byte, which no command line can carry"}
		}
		values[i] = v
	}
	var b strings.Builder
	var vars []string           // the prelude's assignments
	refs := map[string]string{} // placeholder name -> shell variable
	ref := func(name, v string) string {
		if r, ok := refs[name]; ok {
			return r
		}
		r := "__gotask_" + strings.Map(func(c rune) rune {
			if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				return c
			}
			return '_'
		}, name)
		for _, used := range refs {
			if used == r {
				r += fmt.Sprint("_", len(refs))
				break
			}
		}
		refs[name] = r
		vars = append(vars, r+"="+quoteAlways(v))
		return r
	}
	prev := 0
	for i, h := range t.holes {
		b.WriteString(t.src[prev:h.start])
		prev = h.end
		v := values[i]
		switch h.kind {
		case holeWord:
			b.WriteString(quoteWord(v, h.quote))
		case holeSingle:
			b.WriteString("'" + quoteAlways(v) + "'")
		case holeDollarSingle:
			b.WriteString("'" + quoteAlways(v) + "$'")
		case holeDouble:
			b.WriteString(escapeDouble(v))
		case holeParam:
			b.WriteString(`"${` + ref(h.name, v) + `}"`)
		case holeParamQuoted, holeHeredoc:
			b.WriteString("${" + ref(h.name, v) + "}")
		case holeQuotedHeredoc:
			if err := h.checkHeredocValue(v); err != nil {
				return "", err
			}
			b.WriteString(v)
		case holeArith, holeArithWord:
			n, err := arithValue(h.name, v)
			if err != nil {
				return "", err
			}
			if h.kind == holeArithWord {
				n = quoteWord(n, false)
			}
			b.WriteString(n)
		case holeComment:
			b.WriteString(strings.NewReplacer("\n", " ", "\r", " ").Replace(v))
		}
	}
	b.WriteString(t.src[prev:])
	if err := t.checkHeredocs(values); err != nil {
		return "", err
	}
	line := b.String()
	if len(vars) > 0 {
		line = strings.Join(vars, " ") + " && " + line
	}
	if len(line) > maxCommandLine {
		big := 0
		for i := range values {
			if len(values[i]) > len(values[big]) {
				big = i
			}
		}
		return "", &ValueError{Name: t.holes[big].name, Msg: fmt.Sprintf(
			"is %d bytes, which makes the command %d bytes, more than the %d a command line can carry; pass large data in a file (a put step, or a path argument) or on stdin",
			len(values[big]), len(line), maxCommandLine)}
	}
	return line, nil
}

// checkHeredocValue refuses a value whose leading tabs a <<- here-document
// would strip.
func (h *hole) checkHeredocValue(v string) error {
	if !h.doc.dash {
		return nil
	}
	if strings.Contains(v, "\n\t") || h.lineStart && strings.HasPrefix(v, "\t") {
		return &ValueError{Name: h.name, Msg: fmt.Sprintf("has a line that starts with a tab, which the here-document <<-%s would strip; use <<%s", h.doc.delim, h.doc.delim)}
	}
	return nil
}

// checkHeredocs refuses values that would end a quoted here-document
// early: with a line equal to its delimiter, the rest of the value would
// run as commands.
func (t *shellTemplate) checkHeredocs(values []string) error {
	var docs []*heredoc
	for _, h := range t.holes {
		if h.doc != nil && (len(docs) == 0 || docs[len(docs)-1] != h.doc) {
			docs = append(docs, h.doc)
		}
	}
	for _, d := range docs {
		var b strings.Builder
		prev := d.start
		culprit := ""
		for i, h := range t.holes {
			if h.doc != d {
				continue
			}
			b.WriteString(t.src[prev:h.start])
			b.WriteString(values[i])
			prev = h.end
			if strings.Contains(values[i], d.delim) || culprit == "" {
				culprit = h.name
			}
		}
		b.WriteString(t.src[prev:d.end])
		for line := range strings.SplitSeq(b.String(), "\n") {
			if d.dash {
				line = strings.TrimLeft(line, "\t")
			}
			if line == d.delim {
				return &ValueError{Name: culprit, Msg: fmt.Sprintf("has a line %q, which would end the here-document <<'%s' early and run the rest as commands", d.delim, d.delim)}
			}
			if dashDropsByte(line, d.delim) {
				return &ValueError{Name: culprit, Msg: fmt.Sprintf("has a line that starts like the delimiter %q and goes on with a byte above 0x7f, which sh (dash 0.5.12) drops from a here-document; use an unquoted here-document (<<%s), where values arrive exact", d.delim, d.delim)}
			}
		}
	}
	return nil
}

// dashDropsByte reports a here-document line that dash 0.5.12 mangles:
// when a line begins like the delimiter, the first byte that differs is
// lost if it is above 0x7f.
func dashDropsByte(line, delim string) bool {
	k := 0
	for k < len(line) && k < len(delim) && line[k] == delim[k] {
		k++
	}
	return k > 0 && k < len(line) && line[k] >= 0x80
}

// quoteWord renders v as one shell word: bare when that is safe and
// readable, single-quoted otherwise.
func quoteWord(v string, force bool) string {
	if force || v == "" || strings.Contains(v, "=") || reserved[v] {
		return quoteAlways(v)
	}
	return shell.Quote(v)
}

// quoteAlways wraps v in single quotes.
func quoteAlways(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// reserved are words that a shell reads as syntax where a command starts.
var reserved = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "do": true, "done": true,
	"case": true, "esac": true, "while": true, "until": true, "for": true, "in": true,
	"function": true, "select": true, "time": true, "coproc": true,
	"repeat": true, "foreach": true, "end": true, "nocorrect": true, "noglob": true,
}

// escapeDouble escapes what a shell interprets inside double quotes.
func escapeDouble(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '$', '`', '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// arithValue checks that v is a decimal integer, the only thing a value
// may be in arithmetic: bash evaluates names and subscripts there, so
// any other text could run code.
func arithValue(name, v string) (string, error) {
	digits := strings.TrimPrefix(v, "-")
	ok := len(digits) > 0 && len(digits) <= 18 && (digits == "0" || digits[0] != '0')
	for i := 0; ok && i < len(digits); i++ {
		ok = '0' <= digits[i] && digits[i] <= '9'
	}
	if !ok {
		return "", &ValueError{Name: name, Msg: fmt.Sprintf("is %q, but it stands in arithmetic, where only a decimal integer (at most 18 digits, no leading zero) is safe", clip(v))}
	}
	if digits != v {
		return "(" + v + ")", nil
	}
	return v, nil
}

// shellTemplate returns the analysed template of line, a command of t
// declared at at. A placeholder that cannot be made safe is a LoadError
// naming the file, line and column of the command, and the task.
func (r *Registry) shellTemplate(t *Task, at pos, line string) (*shellTemplate, error) {
	tmpl, err := r.cmds.get(line)
	if err == nil {
		return tmpl, nil
	}
	le := &LoadError{File: t.file, Msg: fmt.Sprintf("task %q: %v", t.Name, err), path: at.path}
	if t.file != "" {
		if data, rerr := os.ReadFile(t.file); rerr == nil {
			locate(data, []*LoadError{le})
		}
	}
	return nil, le
}

// checkCommands places the placeholders of every command that t can run,
// with its deps, post tasks and called tasks, so that a placeholder that
// cannot be made safe stops the run before any command of it starts.
// Commands are parsed here, when a task is about to run, and not when
// tasks.toml is loaded, so that listing tasks parses nothing.
//
// The commands of t (with args), of its deps and of its post tasks (with
// their defaults) are also rendered, so that a value that cannot stand
// where it is used (a non-integer in arithmetic, say) stops the run too.
// Only the values of called tasks, computed as the run goes, and of the
// host are checked when their command is about to run.
func (e *Executor) checkCommands(t *Task, args map[string]any) error {
	seen := map[*Task]bool{}
	var visit func(t *Task, args map[string]any) error
	visit = func(t *Task, args map[string]any) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		lookup := func(name string) (string, bool) {
			if args == nil {
				return "", false
			}
			if _, isArg := args[name]; !isArg && name == "host" {
				if _, isVar := e.Registry.Vars[name]; !isVar {
					return "0", true // not known yet; safe in every context
				}
			}
			s := &scope{e: &execution{Executor: e}, t: t, args: args}
			return s.lookup(name)
		}
		check := func(at pos, line string) error {
			tmpl, err := e.Registry.shellTemplate(t, at, line)
			if err != nil || args == nil {
				return err
			}
			if _, err := tmpl.render(lookup); err != nil {
				return &TaskError{Task: t.Name, Err: err}
			}
			return nil
		}
		for i, line := range t.Status {
			if err := check(t.pos.child("status", i), line); err != nil {
				return err
			}
		}
		var calls []string
		for i := range t.Steps {
			st := &t.Steps[i]
			for _, line := range []string{st.Run, st.Local} {
				if err := check(st.pos, line); err != nil {
					return err
				}
			}
			if st.Task != "" {
				calls = append(calls, st.Task)
			}
		}
		for i, names := range [][]string{t.Deps, t.Post, calls} {
			for _, name := range names {
				u, err := e.Registry.Resolve(name)
				if err != nil {
					continue // running it reports the unknown task
				}
				var uargs map[string]any
				if i < 2 {
					uargs, _ = u.ParseArgs(nil) // nil on error: running it reports that
				}
				if err := visit(u, uargs); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return visit(t, args)
}
