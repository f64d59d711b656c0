package responder

import (
	"bytes"
	"context"
	"testing"
)

// TestHideAtEverySplit: the wrapper's request, the nonce's echo, sudo's
// prompt and the markers are taken out wherever the writes split them;
// after the marker, everything passes, even text that looks like them.
func TestHideAtEverySplit(t *testing.T) {
	c := (&Sudo{}).Command(context.Background(), "true")
	stream := "lecture\n" + c.ready + c.nonce + "\r\n" + c.prompt + "Sorry, try again.\n" + c.prompt +
		c.marker + c.marker + "out " + c.prompt + c.marker + c.ready + " end"
	want := "lecture\nSorry, try again.\nout " + c.prompt + c.marker + c.ready + " end"
	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j += 5 {
			var out bytes.Buffer
			w := c.Hide(&out)
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
	if got := string(c.Clean([]byte(stream))); got != want {
		t.Errorf("Clean: got %q, want %q", got, want)
	}
}

func TestHideDoesNotDelayOtherOutput(t *testing.T) {
	c := (&Sudo{}).Command(context.Background(), "true")
	var out bytes.Buffer
	w := c.Hide(&out)
	for _, s := range []string{"Password: ", c.marker, "x", "[gotask sudo"} {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	// Only a possible start of a second marker may wait, and only right
	// after the first.
	if want := "Password: x[gotask sudo"; out.String() != want {
		t.Errorf("output %q, want %q at once", out.String(), want)
	}
}
