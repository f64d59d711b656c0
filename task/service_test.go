package task

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every mistake in a [services.X] table is a load error at the key or
// value at fault, as file:line:col, saying what to write instead.
func TestServiceLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "unknown key",
			doc:  "[services.api]\nrun = \"x\"\nreplica = 2\n",
			want: []string{`tasks.toml:3:1: unknown key "replica" in services.api`},
		},
		{
			name: "dot in a name",
			doc:  "[services.\"api.v2\"]\nrun = \"x\"\n",
			want: []string{`tasks.toml:1:2: service "api.v2": a service name is letters, digits, '-' and '_', like api (no '.', which numbers replicas, nor ':', which names includes)`},
		},
		{
			name: "unknown key in ready",
			doc:  "[services.api]\nrun = \"x\"\nready = { htp = \"http://x\" }\n",
			want: []string{`tasks.toml:3:11: unknown key "htp" in services.api.ready`},
		},
		{
			name: "bad duration",
			doc:  "[services.api]\nrun = \"x\"\nbackoff = \"1 second\"\n",
			want: []string{`tasks.toml:3:1: service "api": backoff "1 second" is not a duration like "500ms", "1s" or "5m"`},
		},
		{
			name: "bad restart value",
			doc:  "[services.api]\nrun = \"x\"\nrestart = \"sometimes\"\n",
			want: []string{`tasks.toml:3:1: service "api": restart must be "always", "on-failure" or "no", not "sometimes"`},
		},
		{
			name: "unknown dep",
			doc:  "[tasks.build]\nrun = \"x\"\n[services.api]\nrun = \"x\"\ndeps = [\"biuld\"]\n",
			want: []string{`tasks.toml:5:9: service "api": unknown dependency "biuld": no task or service has that name; did you mean "build"?`},
		},
		{
			name: "cycle",
			doc:  "[services.a]\nrun = \"x\"\ndeps = [\"b\"]\n[services.b]\nrun = \"x\"\ndeps = [\"a\"]\n",
			want: []string{`tasks.toml:3:1: services depend on each other in a cycle: a -> b -> a`},
		},
		{
			name: "verb clash",
			doc:  "[tasks.stop]\nrun = \"x\"\n[tasks.deploy]\naliases = [\"up\"]\nrun = \"x\"\n[services.api]\nrun = \"x\"\n",
			want: []string{
				`tasks.toml:1:2: task "stop" is called "stop", a service command (gotask stop) in a project with [services]; rename it`,
				`tasks.toml:4:12: task "deploy" is aliased "up", a service command (gotask up) in a project with [services]; rename it`,
			},
		},
		{
			name: "two ready checks",
			doc:  "[services.api]\nrun = \"x\"\nready = { tcp = \":1\", sh = \"true\" }\n",
			want: []string{`tasks.toml:3:1: service "api": ready takes one check: { http = "http://127.0.0.1:8080/health" }, { tcp = "127.0.0.1:8080" } or { sh = "command" }`},
		},
		{
			name: "bad rss",
			doc:  "[services.api]\nrun = \"x\"\nrestart_when = { rss = \"lots\" }\n",
			want: []string{`tasks.toml:3:18: service "api": restart_when.rss "lots" is not a size like "500MB" or "2GB"`},
		},
		{
			name: "bad stop signal",
			doc:  "[services.api]\nrun = \"x\"\nstop_signal = \"STOP\"\n",
			want: []string{`tasks.toml:3:1: service "api": stop_signal must be one of TERM, INT, HUP, QUIT, KILL, USR1, USR2, not "STOP"`},
		},
		{
			name: "bad watch pattern",
			doc:  "[services.api]\nrun = \"x\"\nwatch = [\"**/*.go\", \"[a-\"]\n",
			want: []string{"tasks.toml:3:21: service \"api\": watch: bad pattern \"[a-\": pattern \"[a-\": bad element \"[a-\": unterminated [ or trailing \\"},
		},
		{
			name: "rss on hosts",
			doc:  "[services.api]\nrun = \"x\"\nhosts = \"web\"\nrestart_when = { rss = \"1GB\" }\n",
			want: []string{`tasks.toml:4:18: service "api": restart_when.rss is not yet supported for services on hosts (after is); remove it or hosts`},
		},
		{
			name: "watch on hosts",
			doc:  "[services.api]\nrun = \"x\"\nhosts = [\"h1\"]\nwatch = [\"*.go\"]\n",
			want: []string{`tasks.toml:4:1: service "api": watch is not yet supported for services on hosts: it watches this machine's files; remove it or hosts`},
		},
		{
			name: "nice on hosts",
			doc:  "[services.api]\nrun = \"x\"\nhosts = [\"h1\"]\nnice = 5\n",
			want: []string{`tasks.toml:4:1: service "api": nice is not yet supported for services on hosts; remove it or hosts`},
		},
		{
			name: "empty hosts",
			doc:  "[services.api]\nrun = \"x\"\nhosts = []\n",
			want: []string{`tasks.toml:3:1: service "api": hosts must be a group name or a non-empty list of hosts`},
		},
		{
			name: "host placeholder without hosts",
			doc:  "[services.api]\nrun = \"serve {{.host}}\"\n",
			want: []string{`tasks.toml:2:1: service "api": {{.host}} is not a var or {{.replica}}; declare it under [vars]`},
		},
		{
			name: "unknown placeholder",
			doc:  "[services.api]\nrun = \"serve --port {{.prot}}\"\n",
			want: []string{`tasks.toml:2:1: service "api": {{.prot}} is not a var or {{.replica}}; declare it under [vars]`},
		},
		{
			name: "no run",
			doc:  "[services.api]\nreplicas = 2\n",
			want: []string{`tasks.toml:1:2: service "api" has no run command; write run = "..."`},
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
		})
	}
}

// A project without services keeps its tasks called stop or up.
func TestVerbTaskNamesWithoutServices(t *testing.T) {
	if err := NewRegistry().LoadBytes("tasks.toml", []byte("[tasks.stop]\nrun = \"x\"\n[tasks.up]\nrun = \"x\"\n")); err != nil {
		t.Fatal(err)
	}
}

// The keys are read with their defaults.
func TestServiceKeys(t *testing.T) {
	doc := `
[tasks.build]
run = "true"
[services.db]
run = "db"
[services.api]
help = "the API"
run = "serve"
replicas = 3
restart = "always"
backoff = "0"
max_backoff = "2s"
max_restarts = 9
ready = { http = "http://127.0.0.1:8080/" }
stop_signal = "SIGINT"
stop_grace = "3s"
restart_when = { rss = "500MB", after = "12h" }
deps = ["build", "db"]
nice = 5
env = { A = "1" }
dir = "sub"
watch = ["**/*.go", "!**/*_test.go"]
`
	r := NewRegistry()
	if err := r.LoadBytes("tasks.toml", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	api, ok := r.Service("api")
	if !ok {
		t.Fatal("no service api")
	}
	if api.Help != "the API" || api.Replicas != 3 || api.Restart != "always" || api.Backoff != 0 ||
		api.MaxBackoff != 2*time.Second || api.MaxRestarts != 9 || api.Ready.HTTP != "http://127.0.0.1:8080/" ||
		api.StopSignal != "INT" || api.StopGrace != 3*time.Second || api.RecycleRSS != 500<<20 ||
		api.RecycleAfter != 12*time.Hour || strings.Join(api.Deps, ",") != "build,db" || api.Nice != 5 ||
		api.Env["A"] != "1" || api.Dir != "sub" || strings.Join(api.Watch, ",") != "**/*.go,!**/*_test.go" {
		t.Errorf("api = %+v", api)
	}
	db, _ := r.Service("db")
	if db.Replicas != 1 || db.Restart != "on-failure" || db.Backoff != time.Second || db.MaxBackoff != 30*time.Second ||
		db.MaxRestarts != 5 || db.StopSignal != "TERM" || db.StopGrace != 10*time.Second {
		t.Errorf("db defaults = %+v", db)
	}
	if names := []string{r.Services()[0].Name, r.Services()[1].Name}; strings.Join(names, ",") != "api,db" {
		t.Errorf("Services() = %v", names)
	}
}

// A hostile var in a service's run reaches the shell as its literal
// text, in every shell context: nothing in it runs.
func TestServiceCommandValueIsNeverCode(t *testing.T) {
	dir := t.TempDir()
	hostile := `$(touch pwned1)` + "`touch pwned2`" + `'; touch pwned3; '"; touch pwned4; "` + "\n touch pwned5"
	doc := `
[vars]
evil = "placeholder"
[services.api]
run = """
echo {{.evil}} > plain
echo "{{.evil}}" > double
echo '{{.evil}}' > single
echo {{.replica}} $GOTASK_REPLICA > replica
"""
ready = { sh = "test -n {{.evil}}" }
`
	r := NewRegistry()
	if err := r.LoadBytes(filepath.Join(dir, "tasks.toml"), []byte(doc)); err != nil {
		t.Fatal(err)
	}
	r.SetVar("evil", hostile)
	svc, _ := r.Service("api")
	e := &Executor{Registry: r}
	c, err := e.ServiceCommand(context.Background(), svc, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != dir {
		t.Errorf("dir = %q, want %q", c.Dir, dir)
	}
	for _, line := range []string{c.Line, c.Ready.Sh} {
		cmd := exec.Command("/bin/sh", "-c", line)
		cmd.Dir = c.Dir
		cmd.Env = append(os.Environ(), c.Env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
	}
	for _, f := range []string{"plain", "double", "single"} {
		got, _ := os.ReadFile(filepath.Join(dir, f))
		if string(got) != hostile+"\n" {
			t.Errorf("%s: the command got %q, want the value %q", f, got, hostile)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "replica")); string(got) != "2 2\n" {
		t.Errorf("replica: %q, want \"2 2\"", got)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "pwned*"))
	if len(matches) > 0 {
		t.Errorf("the value ran as code: %v", matches)
	}
}

// A service's hosts: a group is expanded (with its user and port for
// connecting), {{.host}} and host vars are rendered per host, and dir is
// a path on the host, not beside tasks.toml.
func TestServiceHosts(t *testing.T) {
	doc := `
[hosts]
web = { hosts = ["web1", "web2"], user = "deploy", port = 2222 }

[host_vars.web1]
port = "8081"

[host_vars.web2]
port = "8082"

[services.api]
hosts = "web"
dir = "/srv/api"
run = "serve --name {{.host}} --port {{.port}} --replica {{.replica}}"
ready = { tcp = "127.0.0.1:{{.port}}" }
`
	r := NewRegistry()
	if err := r.LoadBytes(filepath.Join(t.TempDir(), "tasks.toml"), []byte(doc)); err != nil {
		t.Fatal(err)
	}
	svc, _ := r.Service("api")
	e := &Executor{Registry: r}
	hosts, err := e.ServiceHosts(svc)
	if err != nil {
		t.Fatal(err)
	}
	want := []ServiceHost{{Name: "web1", Addr: "deploy@web1:2222"}, {Name: "web2", Addr: "deploy@web2:2222"}}
	if fmt.Sprint(hosts) != fmt.Sprint(want) {
		t.Errorf("ServiceHosts = %v, want %v", hosts, want)
	}
	c, err := e.ServiceCommandOn(context.Background(), svc, "web2", 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Line != "serve --name web2 --port 8082 --replica 1" || c.Ready.TCP != "127.0.0.1:8082" || c.Dir != "/srv/api" {
		t.Errorf("on web2: line %q, ready %q, dir %q", c.Line, c.Ready.TCP, c.Dir)
	}
	e.Only = []string{"web1"}
	if hosts, err := e.ServiceHosts(svc); err != nil || len(hosts) != 1 || hosts[0].Name != "web1" {
		t.Errorf("with --only web1: %v, %v", hosts, err)
	}
}
