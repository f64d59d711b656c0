package task

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/runner/local"
)

// valuesToml holds the two reported attacks (a value in double and in
// single quotes) and a task call whose args carry a value to a task that
// uses it in several contexts.
const valuesToml = `
[vars]
evil = "$(touch pwned)'\"` + "`touch pwned`" + `"

[tasks.double]
args = [{ name = "msg" }]
run = "printf '%s\\n' \"msg: {{.msg}}\""

[tasks.single]
args = [{ name = "msg" }]
run = "printf '%s\\n' 'msg: {{.msg}}'"

[tasks.heredoc]
args = [{ name = "msg" }]
run = """
cat <<EOF
msg: {{.msg}} {{.evil}}
EOF"""

[tasks.default]
args = [{ name = "msg" }]
run = 'printf "%s\n" "${GOTASK_UNSET:-{{.msg}}}"'

[tasks.outer]
args = [{ name = "file" }]
steps = [{ task = "inner", args = { cmd = "tool -f {{.file}}" } }]

[tasks.inner]
args = [{ name = "cmd" }]
run = [
  "printf '%s\\n' {{.cmd}}",
  "printf '%s\\n' \"{{.cmd}}\" '{{.cmd}}'",
  "{{.cmd}} 2>/dev/null || echo not a command",
]
`

func loadValues(t *testing.T, toml string) (*Registry, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tasks.toml")
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return r, dir
}

func runValues(t *testing.T, r *Registry, calls ...Call) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &Executor{Registry: r, Local: local.New(), Stdout: &out, Stderr: &errOut, NoPty: true}
	err := e.Run(t.Context(), calls...)
	if _, serr := os.Stat(filepath.Join(r.Dir, "pwned")); serr == nil {
		t.Fatalf("a value ran as code: pwned exists; output:\n%s%s", out.String(), errOut.String())
	}
	return out.String(), err
}

// TestValuesThroughTheExecutor runs the reported attacks through tasks.toml,
// the executor and the local runner's real shell.
func TestValuesThroughTheExecutor(t *testing.T) {
	r, _ := loadValues(t, valuesToml)
	evil := "$(touch pwned)'\"`touch pwned`"
	for _, msg := range []string{"$(touch pwned)", "`touch pwned`", `"; touch pwned; "`, `'; touch pwned; '`, "\\", "a\nb", "*", ""} {
		for _, tc := range []struct{ task, want string }{
			{"double", "msg: " + msg + "\n"},
			{"single", "msg: " + msg + "\n"},
			{"heredoc", "msg: " + msg + " " + evil + "\n"},
			{"default", msg + "\n"},
		} {
			got, err := runValues(t, r, Call{Name: tc.task, Args: map[string]string{"msg": msg}})
			if err != nil {
				t.Fatalf("%s --msg %q: %v", tc.task, msg, err)
			}
			if got != tc.want {
				t.Errorf("%s --msg %q printed %q, want %q", tc.task, msg, got, tc.want)
			}
		}
	}
}

// TestTaskCallArgsAreLiterals: a value in a task step's args is text: the
// outer values are substituted raw, and the called task quotes the whole
// for each of its own contexts. It never becomes a command fragment.
func TestTaskCallArgsAreLiterals(t *testing.T) {
	r, _ := loadValues(t, valuesToml)
	for _, file := range []string{"$(touch pwned)", "x; touch pwned", "`touch pwned`", "'\"; touch pwned"} {
		got, err := runValues(t, r, Call{Name: "outer", Args: map[string]string{"file": file}})
		if err != nil {
			t.Fatalf("outer --file %q: %v", file, err)
		}
		lit := "tool -f " + file
		if want := lit + "\n" + lit + "\n" + lit + "\nnot a command\n"; got != want {
			t.Errorf("outer --file %q printed %q, want %q", file, got, want)
		}
	}
}

// TestUnsafePlaceStopsTheRunBeforeAnythingRuns: a placeholder no value
// can take is reported with the file, line and column of its command, and
// no command of the run starts: not the deps, not an earlier call.
func TestUnsafePlaceStopsTheRunBeforeAnythingRuns(t *testing.T) {
	r, dir := loadValues(t, `
[tasks.first]
run = "touch ran"

[tasks.bad]
deps = ["first"]
args = [{ name = "v" }]
run = [
  "touch ran",
  "echo `+"`echo {{.v}}`"+`",
]
`)
	for _, calls := range [][]Call{{{Name: "bad"}}, {{Name: "first"}, {Name: "bad"}}} {
		_, err := runValues(t, r, calls...)
		var le *LoadError
		if !errors.As(err, &le) {
			t.Fatalf("Run = %v, want a LoadError", err)
		}
		want := `tasks.toml:10:3: task "bad": {{.v}} at line 1, column 12 of the command: stands inside backquotes`
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nwant it to contain %q", err, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
			t.Fatal("a command ran before the unsafe placeholder was refused")
		}
	}
}

// TestUnsafeValueStopsTheRunBeforeAnythingRuns: a value that cannot stand
// where it is used (a line that would end a quoted here-document, a
// non-integer in arithmetic) is refused, naming task and argument, before
// the first command runs.
func TestUnsafeValueStopsTheRunBeforeAnythingRuns(t *testing.T) {
	r, dir := loadValues(t, `
[tasks.doc]
args = [{ name = "body" }]
run = [
  "touch ran",
  """
cat <<'EOF'
{{.body}}
EOF""",
]

[tasks.count]
args = [{ name = "n" }]
run = ["touch ran", "echo $(( {{.n}} + 1 ))"]
`)
	for _, tc := range []struct {
		call Call
		want string
	}{
		{Call{Name: "doc", Args: map[string]string{"body": "x\nEOF\ntouch pwned"}}, `task "doc": value of {{.body}} has a line "EOF", which would end the here-document`},
		{Call{Name: "count", Args: map[string]string{"n": "a[$(touch pwned)]"}}, `task "count": value of {{.n}} is "a[$(touch pwned)]", but it stands in arithmetic`},
	} {
		_, err := runValues(t, r, tc.call)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%v) = %v, want an error containing %q", tc.call, err, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
			t.Fatal("a command ran before the unsafe value was refused")
		}
	}
	got, err := runValues(t, r, Call{Name: "count", Args: map[string]string{"n": "-3"}})
	if err != nil || !strings.HasSuffix(got, "-2\n") {
		t.Errorf("count --n -3 = %q, %v; want -2", got, err)
	}
}

// TestLongValueUnderSudoIsRefused: a value that fits a command line but
// not once sudo's wrapper quotes the command again is refused with an
// error saying so, not E2BIG, and nothing runs.
func TestLongValueUnderSudoIsRefused(t *testing.T) {
	r, dir := loadValues(t, `
[tasks.big]
args = [{ name = "v" }]
sudo = true
run = "printf '%s' {{.v}} > out"
`)
	_, err := runValues(t, r, Call{Name: "big", Args: map[string]string{"v": strings.Repeat("'", 30000)}})
	if err == nil || !strings.Contains(err.Error(), "once wrapped for sudo") {
		t.Fatalf("Run = %v, want an error about the sudo wrapper", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Fatal("the command ran")
	}
}
