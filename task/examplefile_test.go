package task

import (
	"slices"
	"testing"
	"time"
)

// examples/tasks.toml is documentation: it must load, validate, and keep
// showing what it claims to show.
func TestExamplesTasksFileLoads(t *testing.T) {
	r, err := Load("../examples/tasks.toml")
	if err != nil {
		t.Fatalf("examples/tasks.toml does not load:\n%v", err)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("examples/tasks.toml does not validate:\n%v", err)
	}
	if r.Default != "mytime" {
		t.Errorf("default = %q, want mytime", r.Default)
	}
	for _, name := range []string{"mytime", "time", "greet", "build", "clean", "report", "flaky", "fail", "slow"} {
		if _, ok := r.Lookup(name); !ok {
			t.Errorf("examples/tasks.toml has no task %q", name)
		}
	}
	for _, tk := range r.Tasks() {
		if tk.Help == "" {
			t.Errorf("example task %q has no help", tk.Name)
		}
		// Every example must run as it is: required args aside, its
		// arguments parse from their defaults.
		sample := map[ArgType]string{"": "x", String: "x", Int: "1", Bool: "true", Duration: "1s"}
		given := map[string]string{}
		for _, a := range tk.Args {
			if a.Required {
				given[a.Name] = sample[a.Type]
			}
		}
		if _, err := tk.ParseArgs(given); err != nil {
			t.Errorf("example task %q: %v", tk.Name, err)
		}
		// Every placeholder stands where a value can be made safe.
		for _, st := range tk.Steps {
			for _, line := range []string{st.Run, st.Local} {
				if _, err := parseShellTemplate(line); err != nil {
					t.Errorf("example task %q: %q: %v", tk.Name, line, err)
				}
			}
		}
	}

	check := func(name string, ok bool, what string) {
		t.Helper()
		if !ok {
			t.Errorf("example task %q no longer shows %s", name, what)
		}
	}
	mytime, _ := r.Lookup("mytime")
	check("mytime", len(mytime.Steps) == 1 && mytime.Steps[0].Run == "date '+Local time is %c'", "the day-one command")
	greet, _ := r.Lookup("greet")
	check("greet", len(greet.Args) == 3 && greet.Args[0].Required && greet.Args[1].Type == Int && greet.Args[2].Type == Bool, "typed arguments")
	build, _ := r.Lookup("build")
	check("build", slices.Equal(build.Deps, []string{"clean"}) && slices.Equal(build.Post, []string{"report"}), "deps and post tasks")
	report, _ := r.Lookup("report")
	check("report", report.Hidden, "a hidden task")
	flaky, _ := r.Lookup("flaky")
	check("flaky", flaky.Retries == 2, "retries")
	slow, _ := r.Lookup("slow")
	check("slow", slow.Timeout == time.Second, "a timeout")
	version, ok := r.Lookup("version")
	check("version", ok && r.ComputedVars["version"] != "" && len(version.Steps) == 2 && version.Steps[0].Capture == "os", "a computed var and a captured value")
}
