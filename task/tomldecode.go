package task

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// decodeTOML fills dst, a pointer to a struct, from the table t. It
// reports every unknown key and every value of the wrong type, with the
// key path of each (array elements as #N).
func decodeTOML(data []byte, t *tomlTable, dst any) []*LoadError {
	d := &tomlDecoder{data: data}
	d.table(reflect.ValueOf(dst).Elem(), t, nil)
	return d.errs
}

type tomlDecoder struct {
	data   []byte    // the document, for lines and columns
	lines  lineIndex // made on the first error
	errs   []*LoadError
	fields map[reflect.Type]map[string]int // field of each toml tag, per struct type
}

func (d *tomlDecoder) fail(at int, msg string) {
	if d.lines == nil {
		d.lines = newLineIndex(d.data)
	}
	line, col := d.lines.position(at)
	d.errs = append(d.errs, &LoadError{Line: line, Col: col, Msg: msg})
}

// fieldsOf returns the field of each toml tag of struct type t.
func (d *tomlDecoder) fieldsOf(t reflect.Type) map[string]int {
	if m, ok := d.fields[t]; ok {
		return m
	}
	m := map[string]int{}
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" {
			m[tag] = i
		}
	}
	if d.fields == nil {
		d.fields = map[reflect.Type]map[string]int{}
	}
	d.fields[t] = m
	return m
}

// table decodes t into dst, a struct or a map with string keys.
func (d *tomlDecoder) table(dst reflect.Value, t *tomlTable, path []string) {
	switch dst.Kind() {
	case reflect.Struct:
		fields := d.fieldsOf(dst.Type())
		for _, k := range t.order {
			v := t.keys[k]
			i, ok := fields[k]
			if !ok {
				d.fail(v.keyAt, fmt.Sprintf("unknown key %q in %s", k, describePath(path)))
				continue
			}
			d.value(dst.Field(i), v, appendPath(path, k))
		}
	case reflect.Map:
		if dst.IsNil() {
			dst.Set(reflect.MakeMapWithSize(dst.Type(), len(t.order)))
		}
		for _, k := range t.order {
			elem := reflect.New(dst.Type().Elem()).Elem()
			d.value(elem, t.keys[k], appendPath(path, k))
			dst.SetMapIndex(reflect.ValueOf(k), elem)
		}
	}
}

// value decodes v into dst.
func (d *tomlDecoder) value(dst reflect.Value, v *tomlValue, path []string) {
	mismatch := func(want string) {
		d.fail(v.at, fmt.Sprintf("%s: %s where %s is expected", describePath(path), kindOf(v.v), want))
	}
	switch dst.Kind() {
	case reflect.Interface:
		dst.Set(reflect.ValueOf(plain(v)))
	case reflect.Pointer:
		elem := reflect.New(dst.Type().Elem())
		d.value(elem.Elem(), v, path)
		dst.Set(elem)
	case reflect.String:
		if s, ok := v.v.(string); ok {
			dst.SetString(s)
		} else {
			mismatch("a string")
		}
	case reflect.Bool:
		if b, ok := v.v.(bool); ok {
			dst.SetBool(b)
		} else {
			mismatch("true or false")
		}
	case reflect.Int:
		if i, ok := v.v.(int64); ok && int64(int(i)) == i {
			dst.SetInt(i)
		} else {
			mismatch("a whole number")
		}
	case reflect.Slice:
		list, ok := v.v.([]*tomlValue)
		if !ok {
			mismatch("a list")
			return
		}
		s := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, elem := range list {
			d.value(s.Index(i), elem, appendPath(path, indexKey(i)))
		}
		dst.Set(s)
	case reflect.Struct, reflect.Map:
		t, ok := v.v.(*tomlTable)
		if !ok {
			mismatch("a table")
			return
		}
		d.table(dst, t, path)
	default:
		mismatch(dst.Type().String())
	}
}

func appendPath(path []string, k string) []string {
	return append(path[:len(path):len(path)], k)
}

// plain converts v into the Go values an `any` field holds: string,
// int64, float64, bool, tomlDateTime, []any and map[string]any.
func plain(v *tomlValue) any {
	switch x := v.v.(type) {
	case []*tomlValue:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case *tomlTable:
		out := make(map[string]any, len(x.order))
		for _, k := range x.order {
			out[k] = plain(x.keys[k])
		}
		return out
	}
	return v.v
}

// kindOf names the TOML type of a value, with its article.
func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "a whole number"
	case float64:
		return "a number with a fraction"
	case bool:
		return "a boolean"
	case tomlDateTime:
		return "a date or time"
	case []*tomlValue:
		return "a list"
	}
	return "a table"
}

// describePath names a key path for people: `task "build" key retries`,
// `step 2 of task "build"`, `hosts.web`.
func describePath(path []string) string {
	if len(path) == 0 {
		return "the top level"
	}
	if len(path) < 2 || path[0] != "tasks" {
		return strings.Join(path, ".")
	}
	what := fmt.Sprintf("task %q", path[1])
	rest := path[2:]
	for len(rest) >= 2 && strings.HasPrefix(rest[1], "#") {
		n, _ := strconv.Atoi(rest[1][1:])
		noun := map[string]string{"steps": "step", "args": "argument", "responders": "responder"}[rest[0]]
		if noun == "" {
			break
		}
		what = fmt.Sprintf("%s %d of %s", noun, n+1, what)
		rest = rest[2:]
	}
	if len(rest) > 0 {
		what += " key " + strings.Join(rest, ".")
	}
	return what
}
