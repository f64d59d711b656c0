package responder

import (
	"bytes"
	"testing"
)

func TestHidePromptAtEverySplit(t *testing.T) {
	s := &Sudo{}
	prompt := s.Prompt()
	stream := "before\n" + prompt + "after " + prompt + "[sudo] not ours: end"
	want := "before\nafter [sudo] not ours: end"
	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j += 7 {
			var out bytes.Buffer
			w := s.HidePrompt(&out)
			for _, part := range []string{stream[:i], stream[i:j], stream[j:]} {
				if _, err := w.Write([]byte(part)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Fatalf("split at %d,%d: got %q, want %q", i, j, out.String(), want)
			}
		}
	}
}

func TestHidePromptDoesNotDelayOtherOutput(t *testing.T) {
	s := &Sudo{}
	var out bytes.Buffer
	w := s.HidePrompt(&out)
	if _, err := w.Write([]byte("Password: ")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "Password: " {
		t.Errorf("output %q was held back; only a possible start of the prompt may be", out.String())
	}
}
