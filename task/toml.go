package task

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2/unstable"
)

// tasks.toml is decoded in two passes over go-toml's unstable parser:
// parseTOML builds a tree of the document's tables and values, enforcing
// TOML's rules on keys and tables with a map per table, and decodeTOML
// fills the raw structs from it by their toml tags, reporting every
// unknown key and misplaced type with its line and column. go-toml's own
// decoder checks duplicate keys by a linear search of every key seen so
// far, which made loading quadratic in the number of tasks (10,000 tasks
// took over a second); this is linear.

// tomlValue is one value of the document and where it was written.
type tomlValue struct {
	// v is a string, int64, float64, bool, tomlDateTime, []*tomlValue or
	// *tomlTable.
	v        any
	at       int  // byte offset of the value
	keyAt    int  // byte offset of the key that names it
	appendOK bool // an array of tables made by [[...]]
}

// tomlDateTime is a TOML date, time or date-time, kept as written: no
// key of tasks.toml takes one, so it only needs to be reported.
type tomlDateTime string

// tableKind says how a table came to be, which decides what may add to it.
type tableKind uint8

const (
	implicitTable tableKind = iota // an intermediate key of a [header]
	headerTable                    // [header]
	dottedTable                    // an intermediate key of a dotted key = value
	inlineTable                    // { ... }, complete as written
	elementTable                   // an element of [[header]]
)

// tomlTable is a table of the document, its keys in the order written.
type tomlTable struct {
	kind  tableKind
	keys  map[string]*tomlValue
	order []string
}

func newTable(kind tableKind) *tomlTable {
	return &tomlTable{kind: kind, keys: map[string]*tomlValue{}}
}

func (t *tomlTable) set(key string, v *tomlValue) {
	t.keys[key] = v
	t.order = append(t.order, key)
}

// tomlError is a syntax or structure error at a place in the document.
type tomlError struct {
	line, col int
	msg       string
}

func (e *tomlError) Error() string { return fmt.Sprintf("%d:%d: %s", e.line, e.col, e.msg) }

// structureError is a tomlError found by parseTOML, at a byte offset,
// with the offset of the earlier definition it clashes with, if any.
type structureError struct {
	at, first int
	msg       string
}

func (e *structureError) Error() string { return e.msg }

// lineIndex turns byte offsets into lines and columns. Positions are
// kept as offsets while loading, and only turned into lines for errors:
// counting lines from the start for every key made loading quadratic.
type lineIndex []int // the offset of each line's first byte

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// position returns the 1-based line and column of offset.
func (idx lineIndex) position(offset int) (line, col int) {
	line, _ = slices.BinarySearch(idx, offset+1)
	return line, offset - idx[line-1] + 1
}

// parseTOML parses a document into its root table.
func parseTOML(data []byte) (*tomlTable, error) {
	var p unstable.Parser
	p.Reset(data)
	root := newTable(headerTable)
	current := root
	for p.NextExpression() {
		e := p.Expression()
		var err error
		switch e.Kind {
		case unstable.Table:
			current, err = openTable(&p, root, e, false)
		case unstable.ArrayTable:
			current, err = openTable(&p, root, e, true)
		case unstable.KeyValue:
			err = setKeyValue(&p, current, e)
		}
		if err != nil {
			var se *structureError
			if errors.As(err, &se) {
				idx := newLineIndex(data)
				line, col := idx.position(se.at)
				msg := se.msg
				if se.first >= 0 {
					first, _ := idx.position(se.first)
					msg += fmt.Sprintf(" (see line %d)", first)
				}
				return nil, &tomlError{line: line, col: col, msg: msg}
			}
			return nil, err
		}
	}
	if err := p.Error(); err != nil {
		var pe *unstable.ParserError
		if errors.As(err, &pe) {
			line, col := newLineIndex(data).position(int(p.Range(pe.Highlight).Offset))
			return nil, &tomlError{line: line, col: col, msg: pe.Message}
		}
		return nil, err
	}
	return root, nil
}

// keyPart is one part of a dotted key and where it is written.
type keyPart struct {
	name string
	at   int // byte offset
}

func keyOf(p *unstable.Parser, n *unstable.Node) []keyPart {
	var parts []keyPart
	for it := n.Key(); it.Next(); {
		k := it.Node()
		parts = append(parts, keyPart{string(k.Data), int(k.Raw.Offset)})
	}
	return parts
}

func dotted(parts []keyPart) string {
	names := make([]string, len(parts))
	for i, k := range parts {
		names[i] = k.name
	}
	return strings.Join(names, ".")
}

// openTable handles a [header] or [[header]] and returns the table that
// the key = value lines after it go into.
func openTable(p *unstable.Parser, root *tomlTable, e *unstable.Node, array bool) (*tomlTable, error) {
	parts := keyOf(p, e)
	t := root
	for i, k := range parts[:len(parts)-1] {
		v := t.keys[k.name]
		if v == nil {
			next := newTable(implicitTable)
			t.set(k.name, &tomlValue{v: next, at: k.at, keyAt: k.at})
			t = next
			continue
		}
		next, err := descend(v, dotted(parts[:i+1]), k.at)
		if err != nil {
			return nil, err
		}
		t = next
	}
	last := parts[len(parts)-1]
	name := dotted(parts)
	v := t.keys[last.name]
	if array {
		elem := newTable(elementTable)
		ev := &tomlValue{v: elem, at: last.at, keyAt: last.at}
		switch {
		case v == nil:
			t.set(last.name, &tomlValue{v: []*tomlValue{ev}, at: last.at, keyAt: last.at, appendOK: true})
		case v.appendOK:
			v.v = append(v.v.([]*tomlValue), ev)
		default:
			return nil, &structureError{at: last.at, msg: fmt.Sprintf("[[%s]] adds to %s, which is not an array of tables", name, name)}
		}
		return elem, nil
	}
	if v == nil {
		tab := newTable(headerTable)
		t.set(last.name, &tomlValue{v: tab, at: last.at, keyAt: last.at})
		return tab, nil
	}
	if tab, ok := v.v.(*tomlTable); ok && tab.kind == implicitTable {
		tab.kind = headerTable
		v.at, v.keyAt = last.at, last.at
		return tab, nil
	}
	return nil, &structureError{at: last.at, first: v.keyAt, msg: fmt.Sprintf("table [%s] is defined twice", name)}
}

// descend returns the table that v, an intermediate key of a header,
// stands for: a table, or the last element of an array of tables.
func descend(v *tomlValue, name string, at int) (*tomlTable, error) {
	switch x := v.v.(type) {
	case *tomlTable:
		if x.kind != inlineTable {
			return x, nil
		}
		return nil, &structureError{at: at, first: v.keyAt, msg: fmt.Sprintf("%s is an inline table, complete as written; nothing can be added to it", name)}
	case []*tomlValue:
		if v.appendOK {
			return x[len(x)-1].v.(*tomlTable), nil
		}
	}
	return nil, &structureError{at: at, first: v.keyAt, msg: fmt.Sprintf("%s is a value, not a table", name)}
}

// setKeyValue adds key = value to t, making the tables of a dotted key.
func setKeyValue(p *unstable.Parser, t *tomlTable, e *unstable.Node) error {
	parts := keyOf(p, e)
	for i, k := range parts[:len(parts)-1] {
		v := t.keys[k.name]
		if v == nil {
			next := newTable(dottedTable)
			t.set(k.name, &tomlValue{v: next, at: k.at, keyAt: k.at})
			t = next
			continue
		}
		next, ok := v.v.(*tomlTable)
		if !ok || next.kind != dottedTable {
			return &structureError{at: k.at, first: v.keyAt, msg: fmt.Sprintf("key %s is already defined; a dotted key cannot add to it", dotted(parts[:i+1]))}
		}
		t = next
	}
	last := parts[len(parts)-1]
	if v := t.keys[last.name]; v != nil {
		return &structureError{at: last.at, first: v.keyAt, msg: fmt.Sprintf("key %s is defined twice", dotted(parts))}
	}
	v, err := valueOf(p, e.Value())
	if err != nil {
		return err
	}
	v.keyAt = last.at
	t.set(last.name, v)
	return nil
}

// valueOf converts a value node.
func valueOf(p *unstable.Parser, n *unstable.Node) (*tomlValue, error) {
	v := &tomlValue{at: int(n.Raw.Offset)}
	fail := func(err error) (*tomlValue, error) {
		return nil, &structureError{at: v.at, msg: err.Error()}
	}
	switch n.Kind {
	case unstable.String:
		v.v = string(n.Data)
	case unstable.Bool:
		v.v = string(n.Data) == "true"
	case unstable.Integer:
		i, err := parseTOMLInt(string(n.Data))
		if err != nil {
			return fail(err)
		}
		v.v = i
	case unstable.Float:
		f, err := strconv.ParseFloat(strings.ReplaceAll(string(n.Data), "_", ""), 64)
		if err != nil {
			return fail(fmt.Errorf("bad number %s", n.Data))
		}
		v.v = f
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		if !validDateTime(n.Kind, string(n.Data)) {
			return fail(fmt.Errorf("%s is not a valid date or time: use 1979-05-27, 07:32:00 or 1979-05-27T07:32:00Z", n.Data))
		}
		v.v = tomlDateTime(n.Data)
	case unstable.Array:
		list := []*tomlValue{}
		for it := n.Children(); it.Next(); {
			elem, err := valueOf(p, it.Node())
			if err != nil {
				return nil, err
			}
			list = append(list, elem)
		}
		v.v = list
	case unstable.InlineTable:
		t := newTable(dottedTable) // dotted keys inside may share tables
		for it := n.Children(); it.Next(); {
			if kv := it.Node(); kv.Kind == unstable.KeyValue {
				if err := setKeyValue(p, t, kv); err != nil {
					return nil, err
				}
			}
		}
		t.kind = inlineTable
		v.v = t
	default:
		return fail(fmt.Errorf("unexpected %s", n.Kind))
	}
	return v, nil
}

// validDateTime checks a date or time the parser has scanned: the
// numbers must be in range (no 25th hour, no February 30th).
func validDateTime(kind unstable.Kind, s string) bool {
	localTime := func(s string) bool {
		for _, layout := range []string{"15:04:05.999999999", "15:04"} {
			if _, err := time.Parse(layout, s); err == nil {
				return true
			}
		}
		return false
	}
	localDate := func(s string) bool {
		_, err := time.Parse("2006-01-02", s)
		return err == nil
	}
	switch kind {
	case unstable.LocalDate:
		return localDate(s)
	case unstable.LocalTime:
		return localTime(s)
	}
	if len(s) < 11 || !strings.ContainsRune("Tt ", rune(s[10])) || !localDate(s[:10]) {
		return false
	}
	rest := s[11:]
	if kind == unstable.DateTime {
		switch {
		case strings.HasSuffix(rest, "Z"), strings.HasSuffix(rest, "z"):
			rest = rest[:len(rest)-1]
		case len(rest) > 6 && (rest[len(rest)-6] == '+' || rest[len(rest)-6] == '-'):
			if _, err := time.Parse("15:04", rest[len(rest)-5:]); err != nil {
				return false
			}
			rest = rest[:len(rest)-6]
		default:
			return false
		}
	}
	return localTime(rest)
}

// parseTOMLInt parses an integer as the parser has checked it: digits
// with underscores between them, an optional sign, or 0x, 0o, 0b.
func parseTOMLInt(s string) (int64, error) {
	s = strings.ReplaceAll(s, "_", "")
	base := 10
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x':
			base = 16
		case 'o':
			base = 8
		case 'b':
			base = 2
		}
		if base != 10 {
			s = s[2:]
		}
	}
	i, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("%s does not fit in a 64-bit integer", s)
	}
	return i, nil
}
