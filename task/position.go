package task

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// pos is where something was declared: its key path in tasks.toml, with
// array elements as "#N".
type pos struct{ path []string }

// child returns the position of key (and of element idx of it, when idx
// is not negative) below p.
func (p pos) child(key string, idx int) pos {
	n := len(p.path) + 1
	if idx >= 0 {
		n++
	}
	path := append(make([]string, 0, n), p.path...)
	path = append(path, key)
	if idx >= 0 {
		path = append(path, indexKey(idx))
	}
	return pos{path: path}
}

// index returns the position of element i of the array at p.
func (p pos) index(i int) pos {
	path := append(make([]string, 0, len(p.path)+1), p.path...)
	return pos{path: append(path, indexKey(i))}
}

// indexKeys are the path elements of the first array indexes, so that
// loading a file does not format them again for every task.
var indexKeys = [...]string{"#0", "#1", "#2", "#3", "#4", "#5", "#6", "#7", "#8", "#9"}

func indexKey(i int) string {
	if i < len(indexKeys) {
		return indexKeys[i]
	}
	return "#" + strconv.Itoa(i)
}

func (t *Task) errorAt(p pos, msg string) error {
	return &LoadError{File: t.file, Msg: msg, path: p.path}
}

// locate fills in Line and Col of each error from the document, using the
// closest declared ancestor when the exact key is not written out (a
// missing key, or a default).
func locate(data []byte, errs []*LoadError) {
	index := keyPositions(data)
	lines := newLineIndex(data)
	for _, e := range errs {
		for n := len(e.path); n > 0 && e.Line == 0; n-- {
			if off, ok := index[strings.Join(e.path[:n], ".")]; ok {
				e.Line, e.Col = lines.position(off)
			}
		}
	}
}

// keyPositions maps every key path in the document (dotted, array
// elements as #N) to the byte offset where it is written. It is only
// called on the error path, so it may parse the document a second time;
// offsets become lines once, for the errors alone (a line count per key
// would make a large file's error take minutes).
func keyPositions(data []byte) map[string]int {
	index := map[string]int{}
	arrayTables := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e)
			name := strings.Join(table, ".")
			if e.Kind == unstable.ArrayTable {
				n := arrayTables[name]
				arrayTables[name] = n + 1
				table = append(table, "#"+strconv.Itoa(n))
			}
			index[strings.Join(table, ".")] = position(e)
		case unstable.KeyValue:
			walkKeyValue(&p, e, table, index)
		}
	}
	return index
}

func walkKeyValue(p *unstable.Parser, kv *unstable.Node, prefix []string, index map[string]int) {
	path := append(prefix[:len(prefix):len(prefix)], keyParts(kv)...)
	index[strings.Join(path, ".")] = position(kv)
	walkValue(p, kv.Value(), path, index)
}

func walkValue(p *unstable.Parser, v *unstable.Node, path []string, index map[string]int) {
	switch v.Kind {
	case unstable.Array:
		i := 0
		for it := v.Children(); it.Next(); i++ {
			elem := append(path[:len(path):len(path)], "#"+strconv.Itoa(i))
			index[strings.Join(elem, ".")] = position(it.Node())
			walkValue(p, it.Node(), elem, index)
		}
	case unstable.InlineTable:
		for it := v.Children(); it.Next(); {
			if it.Node().Kind == unstable.KeyValue {
				walkKeyValue(p, it.Node(), path, index)
			}
		}
	}
}

func keyParts(n *unstable.Node) []string {
	var parts []string
	for it := n.Key(); it.Next(); {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// position is the offset where node n starts: its first key for a
// key-value, else its own bytes.
func position(n *unstable.Node) int {
	r := n.Raw
	if n.Kind == unstable.KeyValue || n.Kind == unstable.Table || n.Kind == unstable.ArrayTable {
		if it := n.Key(); it.Next() {
			r = it.Node().Raw
		}
	}
	return int(r.Offset)
}
