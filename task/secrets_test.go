package task

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gotask/gotask/responder"
)

func TestSecretEnvListsEverySecretVariable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tasks.toml")
	err := os.WriteFile(file, []byte(`
[hosts]
web = { hosts = ["web1"], sudo_password_env = "WEB_PW" }
db = { hosts = ["db1"], sudo_password_env = "WEB_PW" }

[tasks.a]
run = "true"
responders = [{ pattern = "x", response_env = "TASK_TOKEN" }]

[tasks.b]
steps = [
  { run = "true", responders = [{ pattern = "y", response_env = "STEP_TOKEN" }] },
  { run = "true", responders = [{ pattern = "z", response = "plain\n" }] },
]
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reg.SecretEnv(), []string{"STEP_TOKEN", "TASK_TOKEN", "WEB_PW"}; !slices.Equal(got, want) {
		t.Errorf("SecretEnv() = %q, want %q", got, want)
	}

	// Run masks each one that is set before any command runs, and
	// refuses one too short to mask, naming it.
	t.Setenv("STEP_TOKEN", "step-secret")
	t.Setenv("WEB_PW", "abc")
	e := &Executor{Registry: reg, Secrets: &responder.Secrets{}}
	err = e.Run(t.Context(), Call{Name: "a"})
	if err == nil || !strings.Contains(err.Error(), "$WEB_PW") || !strings.Contains(err.Error(), `host group "db"`) {
		t.Errorf("Run with a 3-byte $WEB_PW: %v, want an error naming it and where it is named", err)
	}
	if got := string(e.Secrets.Redact([]byte("step-secret"))); got != "****" {
		t.Errorf("STEP_TOKEN's value not masked before the run: %q", got)
	}
}
