package task

import (
	"strings"
	"testing"
)

// A partial registry, missing the Go tasks that could not be built, loads
// a tasks.toml that names them, and still rejects what no Go task can
// explain: a cycle. A complete one rejects unknown names.
func TestRegistryPartial(t *testing.T) {
	tests := []struct {
		name    string
		toml    string
		wantErr string // for a complete registry; a partial one loads it
	}{
		{name: "dep", toml: "[tasks.a]\ndeps = [\"gotask\"]\nrun = \"true\"\n", wantErr: `unknown dependency "gotask"`},
		{name: "post", toml: "[tasks.a]\npost = [\"gotask\"]\nrun = \"true\"\n", wantErr: `unknown post task "gotask"`},
		{name: "step", toml: "[tasks.a]\nsteps = [{ task = \"gotask\" }]\n", wantErr: `unknown task "gotask"`},
		{name: "default", toml: "default = \"gotask\"\n[tasks.a]\nrun = \"true\"\n", wantErr: `default task "gotask" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewRegistry().LoadBytes("tasks.toml", []byte(tt.toml))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("complete registry: Load = %v, want an error with %q", err, tt.wantErr)
			}
			reg := NewRegistry()
			reg.Partial = true
			if err := reg.LoadBytes("tasks.toml", []byte(tt.toml)); err != nil {
				t.Errorf("partial registry: Load = %v, want nil", err)
			}
			if _, err := reg.Resolve("gotask"); err == nil {
				t.Errorf("partial registry: Resolve(%q) found a task that is not there", "gotask")
			}
		})
	}

	t.Run("cycle", func(t *testing.T) {
		reg := NewRegistry()
		reg.Partial = true
		err := reg.LoadBytes("tasks.toml", []byte("[tasks.a]\ndeps = [\"b\", \"gotask\"]\n[tasks.b]\ndeps = [\"a\"]\n"))
		if err == nil || !strings.Contains(err.Error(), "dependency cycle") {
			t.Errorf("partial registry: Load = %v, want a dependency cycle", err)
		}
	})
}
