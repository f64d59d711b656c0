package task

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad checks that no document makes the loader panic, that every
// error it returns is a *LoadError naming the file, and that a document it
// accepts is valid: no {{.name}} in it can fail to expand at run time.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("[tasks.hello]\nrun = \"echo {{.who}}\"\nargs = [{ name = \"who\", default = \"world\" }]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fuzz/tasks.toml"
		r := NewRegistry()
		err := r.LoadBytes(file, data)
		if err != nil {
			for _, e := range unjoin(err) {
				var le *LoadError
				if !errors.As(e, &le) || le.File != file || !strings.HasPrefix(e.Error(), file+":") {
					t.Fatalf("error %q (%T) is not a *LoadError naming %s", e, e, file)
				}
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("loaded, but Validate fails: %v", err)
		}
		for _, tk := range r.Tasks() {
			args, err := tk.ParseArgs(requiredSamples(tk))
			if err != nil {
				t.Fatalf("task %q loaded, but its defaults do not parse: %v", tk.Name, err)
			}
			s := &scope{e: &execution{Executor: &Executor{Registry: r}}, t: tk, args: args}
			for _, st := range tk.Steps {
				// A command may still be refused when it is about to run
				// (a placeholder in backquotes, say), but no name is unknown.
				for _, field := range []string{st.Run, st.Local} {
					_, err := expandFor(field, s.lookup, true)
					var pe *PlaceError
					var ve *ValueError
					if err != nil && !errors.As(err, &pe) && !errors.As(err, &ve) {
						t.Fatalf("task %q loaded, but %q fails to expand: %v", tk.Name, field, err)
					}
				}
				for _, field := range []string{st.Put, st.Get, st.To, st.Dir} {
					if _, err := expand(field, s.lookup); err != nil {
						t.Fatalf("task %q loaded, but %q fails to expand: %v", tk.Name, field, err)
					}
				}
			}
		}
	})
}

// requiredSamples gives each required argument a value of its type.
func requiredSamples(tk *Task) map[string]string {
	sample := map[ArgType]string{"": "x", String: "x", Int: "1", Bool: "true", Duration: "1s"}
	given := map[string]string{}
	for _, a := range tk.Args {
		if a.Required {
			given[a.Name] = sample[a.Type]
		}
	}
	return given
}
