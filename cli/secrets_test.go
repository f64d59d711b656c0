package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestJSONEventsMaskSecrets: a host printing a secret in --json output
// shows "****" in the event, even where JSON's escapes (of ", \, <, >
// and &, or of a \r breaking the secret) would hide it from a mask
// applied to the encoded stream.
func TestJSONEventsMaskSecrets(t *testing.T) {
	secret := `pw"<s\e&cret>`
	t.Setenv("DEPLOY_TOKEN", secret)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "host1", "host2")
	leak := filepath.Join(t.TempDir(), "leak")
	if err := os.WriteFile(leak, []byte(secret+"\n"+`pw"<s`+"\r"+`\e&cret>`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeTasks(t, `
[tasks.leak]
run = "cat `+leak+`"
responders = [{ pattern = "never shown", response_env = "DEPLOY_TOKEN" }]
`)
	o := s.run(t, file, "--json", "-H", "host1,host2", "leak")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0", o.code)
	}
	escaped, _ := json.Marshal(secret)
	for _, shown := range []string{secret, strings.Trim(string(escaped), `"`), `\u003cs`} {
		if strings.Contains(o.stdout, shown) {
			t.Errorf("the events show %q:\n%s", shown, o.stdout)
		}
	}
	masked := 0
	for _, line := range strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n") {
		var ev struct{ Line string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		if strings.Contains(ev.Line, "cret") {
			t.Errorf("event line %q shows the secret", ev.Line)
		}
		if ev.Line == "****" {
			masked++
		}
	}
	if masked != 4 {
		t.Errorf("%d lines are ****, want 2 per host:\n%s", masked, o.stdout)
	}
}
