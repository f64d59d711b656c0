package task

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostileValues are what an attacker passes as an argument, var or host.
var hostileValues = []string{
	"$(touch pwned)", "`touch pwned`", `"; touch pwned; "`, `'; touch pwned; '`,
	`'"'"'$(touch pwned)'`, `\`, `\$(touch pwned)`, "a\nb", "x\ntouch pwned", "; touch pwned",
	"x && touch pwned", "x | touch pwned", "*", "~", "~root", "-n", "", "}", "a}b$(touch pwned)",
	"${HOME}", "$HOME", "EOF", "x\nEOF\ntouch pwned\n", "\tx", "x\n\tEOF\ntouch pwned", "if", "FOO=bar",
	"#", "a b\tc", "ünï", "$((1))", "a[$(touch pwned)]", "-3", "42", "010", "2", "E\xfc",
	strings.Repeat("$(touch pwned)'\"`\\\n", 1600), // 30 KB: long, but fits a command line
}

// shellContext is a command template with one placeholder {{.v}} and what
// it must print for a value v.
type shellContext struct {
	name     string
	command  string
	bashOnly bool
	// want is the exact output for v; ok false means the value must be
	// refused (a *ValueError) in this context.
	want func(v, shell string) (out string, ok bool)
}

func exact(prefix, suffix string) func(v, shell string) (string, bool) {
	return func(v, _ string) (string, bool) { return prefix + v + suffix, true }
}

// heredocRefuses says whether a quoted here-document with delimiter EOF
// must refuse body: a line equal to EOF, or one that dash would mangle.
func heredocRefuses(body string, dash bool) bool {
	for _, l := range strings.Split(body, "\n") {
		if dash {
			l = strings.TrimLeft(l, "\t")
		}
		if l == "EOF" || dashDropsByte(l, "EOF") {
			return true
		}
	}
	return false
}

func isInt(v string) bool {
	_, err := arithValue("v", v)
	return err == nil
}

var shellContexts = []shellContext{
	{name: "unquoted", command: "printf '%s' {{.v}}", want: exact("", "")},
	{name: "part of a word", command: "printf '%s' pre{{.v}}post", want: exact("pre", "post")},
	{name: "after a tilde", command: "printf '%s' ~{{.v}}", want: exact("~", "")},
	{name: "double quotes", command: `printf '%s' "msg: {{.v}}!"`, want: exact("msg: ", "!")},
	{name: "single quotes", command: `printf '%s' 'msg: {{.v}}!'`, want: exact("msg: ", "!")},
	{name: "two in one word", command: `printf '%s' "{{.v}}"'{{.v}}'{{.v}}`, want: func(v, _ string) (string, bool) { return v + v + v, true }},
	{name: "ANSI-C quotes", command: `printf '%s' $'msg: {{.v}}!'`, bashOnly: true, want: exact("msg: ", "!")},
	{name: "default, unquoted", command: "printf '%s' ${GOTASK_UNSET:-{{.v}}}", want: exact("", "")},
	{name: "default, double quotes", command: `printf '%s' "${GOTASK_UNSET:-{{.v}}}"`, want: exact("", "")},
	{name: "default, quotes inside", command: `printf '%s' "${GOTASK_UNSET:-"{{.v}}"}"`, want: exact("", "")},
	{name: "prefix pattern, quotes inside", command: `X='*ab'; printf '%s' "${X##"{{.v}}"}"`, want: func(v, _ string) (string, bool) {
		return strings.TrimPrefix("*ab", v), true
	}},
	{name: "prefix pattern, unquoted, quotes inside", command: `X='*ab'; printf '%s' ${X##"{{.v}}"}`, want: func(v, _ string) (string, bool) {
		return strings.TrimPrefix("*ab", v), true
	}},
	{name: "default, unquoted, single quotes inside", command: "printf '%s' ${GOTASK_UNSET:-'{{.v}}'}", want: exact("", "")},
	{name: "prefix pattern", command: `X='*ab'; printf '%s' "${X##{{.v}}}"`, want: func(v, _ string) (string, bool) {
		return strings.TrimPrefix("*ab", v), true
	}},
	{name: "command substitution", command: `printf '%s' "$(printf '%s' {{.v}})"`, want: func(v, _ string) (string, bool) {
		return strings.TrimRight(v, "\n"), true
	}},
	{name: "double quotes in command substitution", command: `printf '%s' "$(printf '%s' "{{.v}}")"`, want: func(v, _ string) (string, bool) {
		return strings.TrimRight(v, "\n"), true
	}},
	{name: "assignment", command: `X={{.v}}; printf '%s' "$X"`, want: exact("", "")},
	{name: "export", command: `export X={{.v}}; printf '%s' "$X"`, want: exact("", "")},
	{name: "comment", command: "printf '%s' ok # {{.v}}\nprintf '%s' !", want: func(string, string) (string, bool) { return "ok!", true }},
	{name: "here-document", command: "cat <<EOF\nmsg: {{.v}}!\nEOF", want: exact("msg: ", "!\n")},
	{name: "here-document, tabs stripped", command: "cat <<-EOF\n\tmsg: {{.v}}!\n\tEOF", want: exact("msg: ", "!\n")},
	{name: "quoted here-document", command: "cat <<'EOF'\nmsg: {{.v}}!\nEOF", want: func(v, _ string) (string, bool) {
		if heredocRefuses("msg: "+v+"!", false) {
			return "", false
		}
		return "msg: " + v + "!\n", true
	}},
	{name: "quoted here-document, value alone on its line", command: "cat <<\\EOF\n{{.v}}\nEOF", want: func(v, _ string) (string, bool) {
		if heredocRefuses(v, false) {
			return "", false
		}
		return v + "\n", true
	}},
	{name: "quoted here-document, tabs stripped", command: "cat <<-'EOF'\n\t{{.v}}\n\tEOF", want: func(v, _ string) (string, bool) {
		if strings.HasPrefix(v, "\t") || strings.Contains(v, "\n\t") || heredocRefuses(v, true) {
			return "", false
		}
		return v + "\n", true
	}},
	{name: "on a here-document's command line", command: "cat <<EOF; printf '%s' {{.v}}\nhi\nEOF", want: exact("hi\n", "")},
	{name: "before a redirection", command: "printf '%s' {{.v}}>out; cat out", want: exact("", "")},
	{name: "redirect target", command: "printf '%s' {{.v}} > out; cat out", want: exact("", "")},
	{name: "case subject and pattern", command: "case {{.v}} in {{.v}}) printf '%s' yes;; *) printf '%s' no;; esac", want: func(string, string) (string, bool) { return "yes", true }},
	{name: "case pattern is no glob", command: "case xyz in {{.v}}) printf '%s' yes;; *) printf '%s' no;; esac", want: func(v, _ string) (string, bool) {
		if v == "xyz" {
			return "yes", true
		}
		return "no", true
	}},
	{name: "test", command: `[ {{.v}} = "$(printf '%s' {{.v}})" ] && printf '%s' same || printf '%s' differ`, want: func(v, _ string) (string, bool) {
		if strings.HasSuffix(v, "\n") {
			return "differ", true // $(...) drops trailing newlines
		}
		return "same", true
	}},
	{name: "prefix pattern, unquoted", command: `X='*ab'; printf '%s' ${X##{{.v}}}`, want: func(v, _ string) (string, bool) {
		return strings.TrimPrefix("*ab", v), true
	}},
	{name: "replacement", command: `X='*ab'; printf '%s' "${X/{{.v}}/R}"`, bashOnly: true, want: func(v, _ string) (string, bool) {
		if v == "" {
			return "*ab", true
		}
		return strings.Replace("*ab", v, "R", 1), true
	}},
	{name: "double brackets", command: `[[ {{.v}} == "{{.v}}" ]] && printf '%s' same`, bashOnly: true, want: func(string, string) (string, bool) { return "same", true }},
	{name: "arithmetic", command: "printf '%s' $(( {{.v}} + 1 ))", want: arith(func(n int) int { return n + 1 })},
	{name: "arithmetic after minus", command: "printf '%s' $((5-{{.v}}))", want: arith(func(n int) int { return 5 - n })},
	{name: "arithmetic in double quotes", command: `printf '%s' "$(( "{{.v}}" * 2 ))"`, bashOnly: true, want: arith(func(n int) int { return n * 2 })},
	{name: "arithmetic command", command: "(( {{.v}} > 0 )) && printf '%s' pos || printf '%s' notpos", bashOnly: true, want: func(v, _ string) (string, bool) {
		if !isInt(v) {
			return "", false
		}
		if strings.HasPrefix(v, "-") || v == "0" {
			return "notpos", true
		}
		return "pos", true
	}},
	{name: "declare -i", command: "declare -i x={{.v}}; printf '%s' $x", bashOnly: true, want: arith(func(n int) int { return n })},
	{name: "let", command: "let x={{.v}}+1; printf '%s' $x", bashOnly: true, want: arith(func(n int) int { return n + 1 })},
	{name: "double brackets -eq", command: "[[ {{.v}} -eq 42 ]] && printf '%s' yes || printf '%s' no", bashOnly: true, want: func(v, _ string) (string, bool) {
		if !isInt(v) {
			return "", false
		}
		if v == "42" {
			return "yes", true
		}
		return "no", true
	}},
	{name: "array index", command: "a=(x y z); printf '%s' \"${a[{{.v}}]}\"", bashOnly: true, want: func(v, _ string) (string, bool) {
		if !isInt(v) {
			return "", false
		}
		return map[string]string{"-3": "x", "42": "", "2": "z"}[v], true
	}},
}

func arith(f func(int) int) func(v, shell string) (string, bool) {
	return func(v, _ string) (string, bool) {
		if !isInt(v) {
			return "", false
		}
		n := 0
		neg := strings.HasPrefix(v, "-")
		for _, c := range strings.TrimPrefix(v, "-") {
			n = n*10 + int(c-'0')
		}
		if neg {
			n = -n
		}
		return itoa(f(n)), true
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// shells are the shells commands meet: sh (dash on Debian) runs local
// commands, bash is the usual login shell of remote ones.
func shells(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, name := range []string{"/bin/sh", "dash", "bash"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("GOTASK_REQUIRE_REAL_PEERS") != "" {
				t.Fatalf("%s is missing: %v", name, err)
			}
			t.Logf("skipping %s: %v", name, err)
			continue
		}
		out = append(out, p)
	}
	return out
}

// runShell runs line with sh -c in a fresh directory, as runner/local does,
// and fails the test if the canary file "pwned" appears.
func runShell(t *testing.T, sh, line string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(sh, "-c", line)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LC_ALL=C.UTF-8"}
	out, err := cmd.Output()
	if _, serr := os.Stat(filepath.Join(dir, "pwned")); serr == nil {
		t.Fatalf("%s ran the value as code: pwned exists\ncommand: %.300q", sh, line)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s -c %.300q: %v: %s", sh, line, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	return string(out)
}

// TestValuesAreLiteralInEveryShellContext is the attacker's matrix: every
// context a placeholder can stand in, times hostile values, through the
// real sh (dash) and bash. The exact text arrives, or the value is refused
// with a ValueError; the canary file is never created.
func TestValuesAreLiteralInEveryShellContext(t *testing.T) {
	for _, sh := range shells(t) {
		for _, c := range shellContexts {
			if c.bashOnly && filepath.Base(sh) != "bash" {
				continue
			}
			tmpl, err := parseShellTemplate(c.command)
			if err != nil {
				t.Fatalf("%s: parse %q: %v", c.name, c.command, err)
			}
			for _, v := range hostileValues {
				t.Run(filepath.Base(sh)+"/"+c.name+"/"+clip(v), func(t *testing.T) {
					want, ok := c.want(v, filepath.Base(sh))
					line, err := tmpl.render(func(string) (string, bool) { return v, true })
					if !ok {
						var ve *ValueError
						if !errors.As(err, &ve) || ve.Name != "v" {
							t.Fatalf("render gave %.200q, %v; want a ValueError for {{.v}}", line, err)
						}
						return
					}
					if err != nil {
						t.Fatalf("render: %v", err)
					}
					if got := runShell(t, sh, line); got != want {
						t.Errorf("got %.200q, want %.200q\ncommand: %.300q", got, want, line)
					}
				})
			}
		}
	}
}

// TestValueTooLongForACommandLine: a 1 MB value is refused with an error
// naming it and saying what to do, rather than E2BIG or a half-run.
func TestValueTooLongForACommandLine(t *testing.T) {
	big := strings.Repeat("$(touch pwned)", 1<<20/14)
	for _, c := range shellContexts {
		tmpl, err := parseShellTemplate(c.command)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tmpl.render(func(string) (string, bool) { return big, true })
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Name != "v" {
			t.Errorf("%s: render of 1 MB: %v, want a ValueError", c.name, err)
		}
	}
	tmpl, _ := parseShellTemplate("printf '%s' {{.v}}")
	_, err := tmpl.render(func(string) (string, bool) { return big, true })
	if err == nil || !strings.Contains(err.Error(), "{{.v}}") || !strings.Contains(err.Error(), "in a file") {
		t.Errorf("error %v: want it to name {{.v}} and say what to do", err)
	}
}

// TestPlacesNoValueCanTake: where no value could be made safe, the
// command is refused before anything runs, saying where and why.
func TestPlacesNoValueCanTake(t *testing.T) {
	tests := []struct{ command, want string }{
		{"echo `echo {{.v}}`", "at line 1, column 12 of the command: stands inside backquotes"},
		{"echo \"`echo '{{.v}}'`\"", "backquotes"},
		{"echo ${{{.v}}}", "unsupported"},
		{"echo $X{{.v}}", "a parameter name"},
		{"echo ${{.v}}", "a parameter name"},
		{"{{.v}}=1 env", "variable name"},
		{"for {{.v}} in a; do :; done", "loop variable"},
		{"{{.v}}() { :; }", "function name"},
		{"cat <<{{.v}}\nx\n{{.v}}", "here-document"},
		{"echo \\{{.v}}", "backslash"},
		{"echo \"\\{{.v}}\"", "backslash"},
		{"echo 'ok' \\\\{{.v}} && true\n\necho \\{{.v}}", "at line 3, column 7"},
		{"echo {{.v}} (", "cannot parse the command"},
		{"[[ -v {{.v}} ]]", "variable name"},
		{"[ -v \"{{.v}}\" ]", "variable name"},
		{"test -R {{.v}}", "variable name"},
		{"unset {{.v}}", "variable name"},
		{"printf -v \"{{.v}}\" %s 1", "variable name"},
		{"export \"{{.v}}\"", "variable name"},
		{"declare -n r={{.v}}", "variable name"},
		{"eval echo {{.v}}", "runs it as code"},
		{`printf '%s' "${X:-'{{.v}}'}"`, "single quotes inside"},
		{`printf '%s' "${X#'{{.v}}'}"`, "single quotes inside"},
		{"cat <<EOF\n${X:-'{{.v}}'}\nEOF", "here-document"},
		{"echo $'it\\'s' {{.v}}", "column 6 of the command: bash and sh (dash) read a \\' inside $'...' differently"},
		{"echo $'it\\'s {{.v}}'", "differently"},
		{"trap \"echo {{.v}}\" EXIT", "runs it as code"},
	}
	for _, tt := range tests {
		_, err := parseShellTemplate(tt.command)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseShellTemplate(%q) = %v, want a PlaceError containing %q", tt.command, err, tt.want)
		}
	}
	// A backslash that is itself escaped, or inside single quotes, is fine.
	for _, ok := range []string{"echo \\\\{{.v}}", "echo '\\{{.v}}'", "echo {{.v}} # `x`", "printf '%s' {{.v}}", "[ -n {{.v}} ]", "export X={{.v}}", "test {{.v}} = -v"} {
		if _, err := parseShellTemplate(ok); err != nil {
			t.Errorf("parseShellTemplate(%q): %v", ok, err)
		}
	}
}

// FuzzValueInContext feeds any value into every context of the matrix
// and runs the command through the real sh: the exact text arrives, or
// the value is refused where the context allows no other, and the canary
// file never appears.
func FuzzValueInContext(f *testing.F) {
	for i := range shellContexts {
		for _, v := range []string{"$(touch pwned)", "x\nEOF\ntouch pwned", "'\"`\\", "-3"} {
			f.Add(uint8(i), v)
		}
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		f.Skip(err)
	}
	f.Fuzz(func(t *testing.T, i uint8, v string) {
		c := shellContexts[int(i)%len(shellContexts)]
		if c.bashOnly || strings.IndexByte(v, 0) >= 0 || len(v) > 4096 {
			return
		}
		tmpl, err := parseShellTemplate(c.command)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := c.want(v, "sh")
		line, err := tmpl.render(func(string) (string, bool) { return v, true })
		if !ok {
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Fatalf("%s: render gave %q, %v; want a ValueError", c.name, line, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: render: %v", c.name, err)
		}
		if got := runShell(t, sh, line); got != want {
			t.Errorf("%s: got %q, want %q\ncommand: %q", c.name, got, want, line)
		}
	})
}

// FuzzParseShellTemplate: no command makes the analysis panic, and what
// it refuses, it refuses with a PlaceError or a placeholder syntax error.
func FuzzParseShellTemplate(f *testing.F) {
	for _, c := range shellContexts {
		f.Add(c.command)
	}
	f.Add("echo `echo {{.v}}` ${{{.v}}} <<{{.v}}")
	f.Fuzz(func(t *testing.T, command string) {
		tmpl, err := parseShellTemplate(command)
		if err != nil {
			return
		}
		if _, err := tmpl.render(func(string) (string, bool) { return "1", true }); err != nil {
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Fatalf("render of %q: %v", command, err)
			}
		}
	})
}

// TestSyntaxErrorsPointIntoTheCommand: a command the parser refuses is
// reported at its place in the command as written, braces and all.
func TestSyntaxErrorsPointIntoTheCommand(t *testing.T) {
	tests := []struct{ command, want string }{
		{"echo {{.v}} (", "line 1, column 13 of the command"},
		{`echo {{"{{"}} {{.v}} x (`, "line 1, column 24 of the command"},
		{"echo {{.v}}\necho (", "line 2, column 1 of the command"},
	}
	for _, tt := range tests {
		_, err := parseShellTemplate(tt.command)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseShellTemplate(%q) = %v, want an error at %q", tt.command, err, tt.want)
		}
	}
}

// TestBashAndDashMustAgree: a placeholder that bash and dash place in
// different contexts is refused unless one rendering is safe for both.
func TestBashAndDashMustAgree(t *testing.T) {
	tests := []struct {
		bash, dash holeKind
		ok         bool
	}{
		{holeWord, holeWord, true},
		{holeDollarSingle, holeSingle, true},
		{holeArith, holeWord, true},
		{holeArithWord, holeDouble, true},
		{holeParam, holeUnknown, true},
		{holeDouble, holeWord, false},
		{holeWord, holeSingle, false},
		{holeHeredoc, holeWord, false},
	}
	for _, tt := range tests {
		h := hole{kind: tt.bash}
		if err := h.merge(hole{kind: tt.dash}); (err == nil) != tt.ok {
			t.Errorf("merge(bash %d, dash %d) = %v, want ok %v", tt.bash, tt.dash, err, tt.ok)
		}
	}
}
