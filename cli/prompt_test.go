package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// questionWatch is a prompt's stderr: when the question is written it
// records whether the terminal tty still echoed at that moment.
type questionWatch struct {
	tty   *os.File
	once  sync.Once
	asked chan struct{}
	echo  bool // ECHO was on when the question was written
}

func (w *questionWatch) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("?")) {
		w.once.Do(func() {
			w.echo = echoOn(w.tty)
			close(w.asked)
		})
	}
	return len(p), nil
}

func echoOn(tty *os.File) bool {
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), ioctlGetTermios)
	if err != nil {
		panic(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// TestPromptsEchoOff: every secret gotask asks for on the terminal (the
// sudo password, the SSH login password, a key's passphrase) is read on
// a real pty with echo turned off before the question shows, so that an
// answer typed as soon as it shows is not echoed either; echo is back on
// afterwards, and the answer never appears on the terminal.
func TestPromptsEchoOff(t *testing.T) {
	prompts := map[string]func(*Streams) func(string) (string, error){
		"sudo password": func(s *Streams) func(string) (string, error) {
			return func(q string) (string, error) { return passwordPrompt(s, q)(context.Background()) }
		},
		"login password and passphrase": askSecret,
	}
	for name, prompt := range prompts {
		t.Run(name, func(t *testing.T) {
			ptmx, tty, err := pty.Open()
			if err != nil {
				t.Skipf("no pty: %v", err)
			}
			t.Cleanup(func() { ptmx.Close(); tty.Close() })
			if !echoOn(tty) {
				t.Fatal("a new pty does not echo")
			}
			w := &questionWatch{tty: tty, asked: make(chan struct{})}
			ask := prompt(&Streams{In: tty, InTTY: true, Out: io.Discard, ErrOut: w})
			type answer struct {
				pw  string
				err error
			}
			done := make(chan answer, 1)
			go func() {
				pw, err := ask("password?")
				done <- answer{pw, err}
			}()
			hang := time.After(2 * time.Minute) // a hang guard only
			select {
			case <-w.asked:
			case <-hang:
				t.Fatal("the question never showed")
			}
			if w.echo {
				t.Error("the terminal still echoed when the question showed: an answer typed at once is echoed")
			}
			if _, err := ptmx.Write([]byte("hunter2\n")); err != nil {
				t.Fatal(err)
			}
			var a answer
			select {
			case a = <-done:
			case <-hang:
				t.Fatal("the prompt never returned")
			}
			if a.err != nil || a.pw != "hunter2" {
				t.Fatalf("prompt returned %q, %v; want hunter2", a.pw, a.err)
			}
			if !echoOn(tty) {
				t.Error("echo is still off after the prompt")
			}
			// Echo is on again: a sentinel typed now comes back, after
			// whatever the terminal showed before it.
			if _, err := ptmx.Write([]byte("sentinel\n")); err != nil {
				t.Fatal(err)
			}
			if err := ptmx.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil { // a hang guard only
				t.Logf("no read deadline on the pty (%v): a lost echo hangs until go test's timeout", err)
			}
			shown := readUntil(t, ptmx, "sentinel")
			if strings.Contains(shown, "hunter2") {
				t.Errorf("the terminal showed the password: %q", shown)
			}
		})
	}
}

// readUntil reads r until what it read contains want, and returns it.
func readUntil(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	var got []byte
	buf := make([]byte, 256)
	for !bytes.Contains(got, []byte(want)) {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading the terminal: %v (read %q)", err, got)
		}
	}
	return string(got)
}
