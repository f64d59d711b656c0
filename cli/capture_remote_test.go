package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestRemoteCaptureIsPerHost runs a capture step on two hosts through a
// real sshd: each host's later steps see the value its own command
// printed, never the other host's, and a hostile value captured on a host
// arrives as its exact text.
func TestRemoteCaptureIsPerHost(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "web1", "web2")
	canary := filepath.Join(t.TempDir(), "pwned")
	file := writeTasks(t, `
[tasks.deploy]
hosts = ["web1", "web2"]
steps = [
  { run = "echo \"me-$GOTASK_HOST\"", capture = "me" },
  { run = "printf '%s\\n' \"\\$(touch `+canary+`); 'x'\"", capture = "evil" },
  { run = "echo got {{.me}} on {{.host}}: {{.evil}}" },
  { run = "echo \"dq {{.me}}: {{.evil}}\"" },
]
`)
	o := s.run(t, file, "deploy")
	if o.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", o.code, o.stderr)
	}
	evil := "$(touch " + canary + "); 'x'"
	for _, h := range []string{"web1", "web2"} {
		for _, want := range []string{
			"[" + h + "] got me-" + h + " on " + h + ": " + evil + "\n",
			"[" + h + "] dq me-" + h + ": " + evil + "\n",
		} {
			if !strings.Contains(o.stdout, want) {
				t.Errorf("stdout lacks %q", want)
			}
		}
	}
	if strings.Contains(o.stdout, "got me-web1 on web2") || strings.Contains(o.stdout, "got me-web2 on web1") {
		t.Error("a host saw the value captured on the other host")
	}
	if _, err := os.Stat(canary); err == nil {
		t.Fatal("a captured value ran as code on the host")
	}
}
