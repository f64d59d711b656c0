package task

import (
	"bytes"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gotask/gotask/runner/local"
)

func TestParseDotenv(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
	}{
		{"bare", "A=1\nB = two words  \n", map[string]string{"A": "1", "B": "two words"}},
		{"comments and blanks", "# c\n\n  \nA=x # note\nB=y#not-a-comment\n", map[string]string{"A": "x", "B": "y#not-a-comment"}},
		{"export", "export A=1\nexport\tB='2'\n", map[string]string{"A": "1", "B": "2"}},
		{"single quotes are literal", `A='a \n "b" $(x) ${HOME}'`, map[string]string{"A": `a \n "b" $(x) ${HOME}`}},
		{"double quotes escape", `A="l1\nl2\t\"q\" \\ \$(x) \z"`, map[string]string{"A": "l1\nl2\t\"q\" \\ $(x) \\z"}},
		{"no substitution ever", "A=$(touch pwned)\nB=`id`\nC=${HOME}\nD={{.x}}\n",
			map[string]string{"A": "$(touch pwned)", "B": "`id`", "C": "${HOME}", "D": "{{.x}}"}},
		{"multi-line quoted", "A=\"one\ntwo\"\nB='x\ny' # c\nC=3", map[string]string{"A": "one\ntwo", "B": "x\ny", "C": "3"}},
		{"crlf", "A=1\r\nB=\"2\"\r\n", map[string]string{"A": "1", "B": "2"}},
		{"empty value", "A=\nB=\"\"\n", map[string]string{"A": "", "B": ""}},
		{"later wins", "A=1\nA=2\n", map[string]string{"A": "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDotenv("f.env", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseDotenvErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		msg      string
	}{
		{"no equals", "A=1\nnonsense\n", 2, `"nonsense" is not KEY=VALUE`},
		{"bad key", "\n\nA B=1\n", 3, `"A B" is not a variable name`},
		{"key with a dash", "A-B=1\n", 1, `"A-B" is not a variable name`},
		{"unclosed", "A=1\nB=\"open\nC=2\n", 2, "the value of B has no closing \""},
		{"junk after quotes", "A='x\ny' z\n", 2, `unexpected "z" after the quoted value of A`},
		{"line after a multi-line value", "A=\"x\ny\"\nbad\n", 3, `"bad" is not KEY=VALUE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseDotenv("f.env", []byte(tc.in))
			var de *DotenvError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *DotenvError", err)
			}
			if de.Line != tc.line || !strings.Contains(de.Msg, tc.msg) || !strings.HasPrefix(err.Error(), "f.env:") {
				t.Errorf("got %q (line %d), want line %d and %q", err, de.Line, tc.line, tc.msg)
			}
		})
	}
}

func TestLoadEnvErrors(t *testing.T) {
	doc := `dotenv = ["!"]

[env]
"A B" = "x"
OK = "{{.nope}}"

[tasks.t]
dotenv = [""]
run = "true"
`
	err := NewRegistry().LoadBytes("tasks.toml", []byte(doc))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`tasks.toml:1:11: dotenv entry "!" is not a file path`,
		`tasks.toml:4:1: [env] key "A B" is not a variable name`,
		`tasks.toml:5:1: [env] OK: {{.nope}} is not a var`,
		`tasks.toml:8:11: task "t": dotenv entry "" is not a file path`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLoadComputedVarErrors(t *testing.T) {
	doc := `[vars]
a = { sh = "" }
b = { sh = "true", cache = true }
c = [1]

[tasks.t]
run = "echo {{.a}}"
`
	err := NewRegistry().LoadBytes("tasks.toml", []byte(doc))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`tasks.toml:2:1: var "a": sh must be a command`,
		`tasks.toml:3:20: unknown key "cache" in var "b"`,
		`tasks.toml:4:1: var "c" must be a string, number, boolean or { sh = "command" }`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// FuzzDotenvRoundTrip checks that any value written the way a dotenv
// file writes it, double-quoted with \, " and $ escaped, or
// single-quoted when it holds no quote, reads back exactly (a \r\n as
// \n: files edited on Windows read as elsewhere), and that no
// input makes the parser panic or accept an invalid name.
func FuzzDotenvRoundTrip(f *testing.F) {
	f.Add("plain", "$(touch pwned)")
	f.Add("multi\nline", "'; touch pwned; '")
	f.Add(`back\slash "q" $HOME`, "# not a comment")
	f.Fuzz(func(t *testing.T, value, junk string) {
		if vars, err := parseDotenv("j.env", []byte(junk)); err == nil {
			for k := range vars {
				if !validEnvName(k) {
					t.Fatalf("%q: accepted the name %q", junk, k)
				}
			}
		}
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`).Replace(value)
		doc := "# written\nexport A=\"" + q + "\" # note\nB=after\n"
		if !strings.Contains(value, "'") {
			doc += "C='" + value + "'\n"
		}
		vars, err := parseDotenv("f.env", []byte(doc))
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		want := strings.ReplaceAll(value, "\r\n", "\n") // Windows line ends are read as \n
		wantC := want
		if strings.Contains(value, "'") {
			wantC = ""
		}
		if vars["A"] != want || vars["B"] != "after" || vars["C"] != wantC {
			t.Fatalf("%q read back as %q", doc, vars)
		}
	})
}

// A computed var runs once per run, however many tasks of the run use
// it (deps at once included), and again in the next run of the same
// Executor, which may print something else.
func TestComputedVarOncePerRun(t *testing.T) {
	dir := t.TempDir()
	doc := `[vars]
n = { sh = "echo x >> count; wc -l < count | tr -d ' '" }

[tasks.a]
run = "echo a{{.n}}"
[tasks.b]
run = "echo b{{.n}}"
[tasks.top]
deps = ["a", "b"]
run = "echo top{{.n}}"
`
	r := NewRegistry()
	if err := r.LoadBytes(filepath.Join(dir, "tasks.toml"), []byte(doc)); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	e := &Executor{Registry: r, Local: local.New(), Stdout: &stdout}
	for _, want := range []string{"1", "2"} {
		stdout.Reset()
		if err := e.Run(t.Context(), Call{Name: "top"}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Fields(stdout.String())
		slices.Sort(lines)
		if got := strings.Join(lines, " "); got != "a"+want+" b"+want+" top"+want {
			t.Errorf("run %s printed %q", want, got)
		}
	}
}
