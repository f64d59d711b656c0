package task

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// Every mistake in tasks.toml is reported as file:line:col at the key or
// value at fault, naming the task, and every mistake found is reported.
func TestLoadErrorPositions(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // each error, in order
	}{
		{
			name: "unknown key in a task",
			doc:  "[tasks.build]\nrun = \"go build\"\ndep = [\"x\"]\n",
			want: []string{`tasks.toml:3:1: unknown key "dep" in task "build"`},
		},
		{
			name: "unknown key in a step",
			doc:  "[tasks.build]\nsteps = [\n  { rn = \"x\" },\n]\n",
			want: []string{`tasks.toml:3:5: unknown key "rn" in step 1 of task "build"`},
		},
		{
			name: "unknown top-level key",
			doc:  "defualt = \"x\"\n",
			want: []string{`tasks.toml:1:1: unknown key "defualt" in the top level`},
		},
		{
			name: "every unknown key",
			doc:  "[tasks.a]\ndep = 1\n[tasks.b]\n  rn = 2\n",
			want: []string{
				`tasks.toml:2:1: unknown key "dep" in task "a"`,
				`tasks.toml:4:3: unknown key "rn" in task "b"`,
			},
		},
		{
			name: "wrong type",
			doc:  "[tasks.build]\nretries = \"three\"\n",
			want: []string{`tasks.toml:2:11: task "build" key retries: a string where a whole number is expected`},
		},
		{
			// The copy keeps permission bits only: 04755 would silently
			// lose its setuid bit, and 01000 would make a file mode 000.
			name: "put mode beyond permission bits",
			doc:  "[tasks.x]\nsteps = [\n  { put = \"a\", to = \"b\", mode = \"04755\" },\n  { get = \"a\", to = \"b\", mode = \"1000\" },\n]\n",
			want: []string{
				`tasks.toml:3:26: task "x": mode must be octal permission bits from "0000" to "0777", like "0755", on a put or get step`,
				`tasks.toml:4:26: task "x": mode must be octal permission bits from "0000" to "0777", like "0755", on a put or get step`,
			},
		},
		{
			name: "wrong type of list",
			doc:  "[tasks.x]\naliases = \"a\"\n",
			want: []string{`tasks.toml:2:11: task "x" key aliases: a string where a list is expected`},
		},
		{
			name: "syntax error",
			doc:  "[tasks.build\nrun = 3\n",
			want: []string{`tasks.toml:1:13: expected ']' to close table name`},
		},
		{
			name: "env keys that are not variable names",
			doc:  "[tasks.x]\nrun = \"env\"\nenv = { \"A B\" = \"1\", \"K=V\" = \"4\" }\n[tasks.y]\nsteps = [{ run = \"env\", env = { 1X = \"1\" } }]\n",
			want: []string{
				`tasks.toml:3:9: task "x": env key "A B" is not a variable name: use letters, digits and '_', not starting with a digit`,
				`tasks.toml:5:33: task "y": env key "1X" is not a variable name: use letters, digits and '_', not starting with a digit`,
			},
		},
		{
			name: "hosts that could never connect",
			doc:  "[hosts]\nweb = [\"web1\", \"bad host\"]\ndb = { hosts = [\"-oProxyCommand=x\", \"db:0\"] }\n[tasks.x]\nrun = \"uptime\"\nhosts = [\"ok@h:22\", \"user@\"]\n",
			want: []string{
				`tasks.toml:2:16: host group "web": host "bad host" contains ' '; write [user@]host[:port]`,
				`tasks.toml:3:17: host group "db": host "-oProxyCommand=x" starts with '-'; write [user@]host[:port]`,
				`tasks.toml:3:37: host group "db": host "db:0" has port "0", not a number from 1 to 65535; write [user@]host[:port]`,
				`tasks.toml:6:21: task "x": host "user@" has no host name; write [user@]host[:port]`,
			},
		},
		{
			name: "unknown host group",
			doc:  "[tasks.x]\nrun = \"uptime\"\nhosts = [\"@web\"]\n",
			want: []string{`tasks.toml:3:10: task "x": unknown host group "web"; define it under [hosts]`},
		},
		{
			name: "host group vars not a table",
			doc:  "[hosts.web]\nhosts = [\"h1\"]\nvars = \"role=app\"\n",
			want: []string{`tasks.toml:3:1: host group "web": vars must be a table, like { role = "app" }`},
		},
		{
			name: "host group var not a scalar",
			doc:  "[hosts.web]\nhosts = [\"h1\"]\nvars = { role = [\"app\"] }\n",
			want: []string{`tasks.toml:3:10: host group "web": var "role" must be a string, number or boolean`},
		},
		{
			name: "host var named after a built-in",
			doc:  "[host_vars.h1]\nhost = \"other\"\n",
			want: []string{`tasks.toml:2:1: host_vars for "h1": {{.host}} is built in; give the var another name`},
		},
		{
			name: "host_vars for a host that could never connect",
			doc:  "[host_vars.\"-oProxyCommand=x\"]\nshard = \"1\"\n",
			want: []string{`tasks.toml:1:2: host_vars: host "-oProxyCommand=x" starts with '-'; write [user@]host[:port]`},
		},
		{
			name: "host_vars not a table",
			doc:  "host_vars = { h1 = \"1\" }\n",
			want: []string{`tasks.toml:1:15: host_vars for "h1": vars must be a table, like { role = "app" }`},
		},
		{
			name: "task named after a gotask command",
			doc:  "[tasks.help]\nrun = \"echo\"\n[tasks.comp]\nrun = \"echo\"\naliases = [\"completion\"]\n",
			want: []string{
				`tasks.toml:1:2: task name "help" is taken by gotask's own "help" command; rename the task (an alias may keep a short name)`,
				`tasks.toml:5:12: task "comp": alias "completion" is taken by gotask's own "completion" command`,
			},
		},
		{
			name: "run of the wrong type",
			doc:  "[tasks.build]\nrun = 3\n",
			want: []string{`tasks.toml:2:1: task "build": run must be a string or a list of strings`},
		},
		{
			name: "one bad command in a list points at it",
			doc:  "[tasks.build]\nrun = [\"a\", 3]\n",
			want: []string{`tasks.toml:2:13: task "build": run must be a string or a list of strings`},
		},
		{
			name: "run and steps",
			doc:  "[tasks.build]\nrun = \"a\"\nsteps = [{ run = \"b\" }]\n",
			want: []string{`tasks.toml:3:1: task "build" has both run and steps; put the commands in steps`},
		},
		{
			name: "step of two kinds",
			doc:  "[tasks.build]\nsteps = [\n  { run = \"b\" },\n  { run = \"b\", local = \"c\" },\n]\n",
			want: []string{`tasks.toml:4:3: task "build": a step needs exactly one of run, local, task, put, get or defer`},
		},
		{
			name: "unknown dependency",
			doc:  "[tasks.test]\n[tasks.build]\ndeps = [\"test\", \"tset\"]\n",
			want: []string{`tasks.toml:3:17: task "build": unknown dependency "tset"; did you mean "test"?`},
		},
		{
			name: "unknown dependency far from any name",
			doc:  "[tasks.a]\ndeps = [\"x\"]\n",
			want: []string{`tasks.toml:2:9: task "a": unknown dependency "x"`},
		},
		{
			name: "dependency cycle",
			doc:  "[tasks.a]\ndeps = [\"b\"]\n[tasks.b]\ndeps = [\"a\"]\n",
			want: []string{`tasks.toml:2:1: dependency cycle: a -> b -> a`},
		},
		{
			name: "duplicate alias",
			doc:  "[tasks.a]\naliases = [\"x\"]\n[tasks.b]\naliases = [\"y\", \"x\"]\n",
			want: []string{`tasks.toml:4:17: name "x" of task "b" is already taken by task "a"`},
		},
		{
			name: "bad argument type",
			doc:  "[tasks.a]\nargs = [\n  { name = \"n\", type = \"integer\" },\n]\n",
			want: []string{`tasks.toml:3:3: task "a": argument "n" has unknown type "integer"; use string, int, bool or duration`},
		},
		{
			name: "bad default",
			doc:  "[tasks.a]\nargs = [\n  { name = \"ok\" },\n  { name = \"n\", type = \"int\", default = \"ten\" },\n]\n",
			want: []string{`tasks.toml:4:3: task "a": argument "n": "ten" is not a whole number`},
		},
		{
			name: "bad duration",
			doc:  "[tasks.a]\nrun = \"x\"\ntimeout = \"5 minutes\"\n",
			want: []string{`tasks.toml:3:1: task "a": "5 minutes" is not a duration like "30s", "5m" or "1h30m"`},
		},
		{
			name: "unknown name in a command",
			doc:  "[vars]\napp = \"x\"\n[tasks.a]\nrun = [\"echo {{.app}}\", \"echo {{.aap}}\"]\n",
			want: []string{`tasks.toml:4:25: task "a": {{.aap}} is not an argument of the task or a var; declare it under args or [vars]`},
		},
		{
			name: "missing default task",
			doc:  "default = \"nope\"\n[tasks.a]\n",
			want: []string{`tasks.toml:1:1: default task "nope" does not exist`},
		},
		{
			name: "bad task name",
			doc:  "[tasks.\"bad name\"]\nrun = \"x\"\n",
			want: []string{`tasks.toml:1:2: invalid task name "bad name": use letters, digits, '-', '_', ':' or '.', starting with a letter`},
		},
		{
			name: "bad responder pattern",
			doc:  "[tasks.a]\nresponders = [{ pattern = \"(\", response = \"y\" }]\n",
			want: []string{"tasks.toml:2:17: task \"a\": responder pattern \"(\": error parsing regexp: missing closing ): `(`"},
		},
		{
			name: "errors from different tasks, in file order",
			doc:  "[tasks.z]\ntimeout = \"soon\"\n[tasks.a]\nrun = 3\n",
			want: []string{
				`tasks.toml:2:1: task "z": "soon" is not a duration like "30s", "5m" or "1h30m"`,
				`tasks.toml:4:1: task "a": run must be a string or a list of strings`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewRegistry().LoadBytes("tasks.toml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("LoadBytes succeeded, want %q", tt.want)
			}
			if got := err.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("LoadBytes error:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
			for _, e := range unjoin(err) {
				var le *LoadError
				if !errors.As(e, &le) || le.File != "tasks.toml" || le.Line == 0 || le.Col == 0 {
					t.Errorf("error %q is %T %+v, want a *LoadError with file, line and column", e, e, le)
				}
			}
		})
	}
}

func TestLoadErrorString(t *testing.T) {
	tests := []struct {
		err  LoadError
		want string
	}{
		{LoadError{File: "tasks.toml", Line: 3, Col: 1, Msg: "bad"}, "tasks.toml:3:1: bad"},
		{LoadError{File: "tasks.toml", Msg: "bad"}, "tasks.toml: bad"},
		{LoadError{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(t.TempDir() + "/nope.toml")
	var le *LoadError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "nope.toml: no such file") {
		t.Fatalf("Load of a missing file: %v (%T), want a *LoadError naming it", err, err)
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	deep := root + "/a/b/c"
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(deep); err == nil || !strings.Contains(err.Error(), "no tasks.toml in "+deep+" or any parent directory") {
		t.Errorf("Find with no tasks.toml: %v, want an error saying where it looked", err)
	}
	for _, dir := range []string{root, root + "/a/b"} {
		if err := os.WriteFile(dir+"/tasks.toml", nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Find(deep)
	if err != nil || got != root+"/a/b/tasks.toml" {
		t.Errorf("Find(%q) = %q, %v; want the nearest, %s/a/b/tasks.toml", deep, got, err, root)
	}
}
