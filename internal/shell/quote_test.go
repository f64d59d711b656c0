package shell

import (
	"os/exec"
	"testing"
)

func TestQuoteRoundTripsThroughSh(t *testing.T) {
	values := []string{
		"", "plain", "with space", "it's", `"double"`, "$(touch pwned)", "; touch pwned",
		"`id`", "a\nb", "tab\there", "*", "~", "-n", "=x", "back\\slash", "'", "''", "ünï",
	}
	for _, v := range values {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+Quote(v)).Output()
		if err != nil {
			t.Fatalf("sh -c with %q: %v", v, err)
		}
		if string(out) != v {
			t.Errorf("Quote(%q) through sh gave %q", v, out)
		}
	}
}

func TestJoin(t *testing.T) {
	if got, want := Join([]string{"env", "A=b c"}), "env 'A=b c'"; got != want {
		t.Errorf("Join = %q, want %q", got, want)
	}
}
