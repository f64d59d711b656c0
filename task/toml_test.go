package task

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// tomlDocs are documents on the edges of TOML's rules on tables and keys;
// parseTOML must accept exactly those go-toml accepts, with the same data.
var tomlDocs = []string{
	"a = 1\nb = 'x'\nc = true\nd = 1.5\ne = [1, 2]\nf = { g = 1 }\n",
	"[a.b.c]\nx = 1\n[a]\ny = 2\n", // implicit a made explicit
	"[a]\n[a]\n",                   // defined twice
	"[a.b]\n[a.b]\n",               // defined twice
	"a = 1\na = 2\n",               // key twice
	"a.b = 1\na.c = 2\n",           // dotted keys share a table
	"a.b = 1\n[a]\n",               // header after dotted keys
	"[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true\n",
	"[fruit]\napple.color = 'red'\n[fruit.apple]\n", // invalid
	"[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n",              // dotted into a header table
	"a = { b = 1 }\n[a.c]\n",                        // inline tables are complete
	"a = { b = 1 }\na.c = 2\n",
	"[[a]]\nx = 1\n[[a]]\nx = 2\n[a.b]\ny = 3\n",
	"[[a]]\n[a.b]\nx = 1\n[[a]]\n[a.b]\nx = 2\n",
	"a = [1]\n[[a]]\n", // a static array is not an array of tables
	"[[a]]\n[a]\n",
	"[a]\n[[a]]\n",
	"a = { b.c = 1, b.d = 2 }\n",
	"a = { b.c = 1, b = 2 }\n",
	"n = 0x1F\no = 0o17\nb = 0b101\nu = 1_000\nneg = -5\nf = 6.02e23\ni = inf\nm = -inf\n",
	"big = 9223372036854775807\n",
	"big = 9223372036854775808\n",
	"s = \"\"\"\nmulti\\tline\"\"\"\nl = '''raw\\n'''\n",
	"\"quoted.key\" = 1\n'lit' = 2\n",
	"[tasks.\"a b\"]\nrun = 'x'\n",
	"d = 1979-05-27\nt = 07:32:00\ndt = 1979-05-27T07:32:00Z\n",
	"[a\n",
	"a = \n",
	"a = [1,\n2,\n]\n",
	"a.b = 1\n[a.b.c]\n",
}

func TestParseTOMLAgreesWithGoTOML(t *testing.T) {
	for i, doc := range tomlDocs {
		t.Run(fmt.Sprint(i), func(t *testing.T) { compareWithGoTOML(t, []byte(doc)) })
	}
}

func FuzzParseTOML(f *testing.F) {
	for _, doc := range tomlDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) { compareWithGoTOML(t, data) })
}

func compareWithGoTOML(t *testing.T, data []byte) {
	t.Helper()
	var want map[string]any
	wantErr := toml.Unmarshal(data, &want)
	tree, err := parseTOML(data)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%q: parseTOML error %v, go-toml error %v", data, err, wantErr)
	}
	if err != nil {
		return
	}
	got := plain(&tomlValue{v: tree})
	if !reflect.DeepEqual(normalise(got), normalise(want)) {
		t.Fatalf("%q:\nparseTOML %#v\ngo-toml   %#v", data, got, want)
	}
}

// normalise makes dates and times comparable: go-toml decodes them into
// its own types, parseTOML keeps the text.
func normalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalise(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalise(e)
		}
		return out
	case tomlDateTime:
		return "date"
	case string, int64, float64, bool:
		return v
	}
	return "date" // go-toml's LocalDate, LocalTime, LocalDateTime, time.Time
}

// Keys keep the order they are written in, so that errors come in the
// order of the document.
func TestParseTOMLKeepsOrder(t *testing.T) {
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "[tasks.t%d]\nrun = \"echo %d\"\n", i, i)
	}
	tree, err := parseTOML([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	tasks := tree.keys["tasks"].v.(*tomlTable)
	if got := strings.Join(tasks.order, ","); got != "t0,t1,t2" {
		t.Errorf("order %s, want t0,t1,t2", got)
	}
}
