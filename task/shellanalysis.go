package task

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

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
		h.words = a.wholeArg(node, h)
	}
	if escaped() {
		return errBackslash
	}
	return nil
}

// wholeArg reports whether the placeholder h, in the literal node, is a
// whole argument of a simple command or a whole item of a for loop's
// list: only there may a list of words (such as {{.ARGS}}) stand as
// several words. Anywhere else (an assignment, a redirection, part of a
// word) a list is one word, its items joined by spaces.
func (a *analysis) wholeArg(node syntax.Node, h *hole) bool {
	lit, ok := node.(*syntax.Lit)
	if !ok || lit.Value != a.t.src[h.start:h.end] || len(a.stack) < 3 {
		return false
	}
	w, ok := a.stack[len(a.stack)-2].(*syntax.Word)
	if !ok || len(w.Parts) != 1 {
		return false
	}
	switch p := a.stack[len(a.stack)-3].(type) {
	case *syntax.CallExpr:
		return slices.Contains(p.Args, w)
	case *syntax.WordIter:
		return slices.Contains(p.Items, w)
	}
	return false
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
