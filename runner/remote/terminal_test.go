//go:build unix

package remote

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// TestTerminal gives Run a real terminal as stdin: PtyAuto must request a
// pty of the terminal's size, put the terminal in raw mode while the
// command runs, forward SIGWINCH as window changes and restore the
// terminal on every exit path.
func TestTerminal(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Options{Handler: func(s *sshtest.Session) int {
		fmt.Fprintf(s.Stdout, "pty=%v size %dx%d\n", s.Pty, s.Cols, s.Rows)
		select {
		case size := <-s.WindowChanges:
			fmt.Fprintf(s.Stdout, "resized %dx%d\n", size[0], size[1])
		case <-time.After(hangGuard):
			io.WriteString(s.Stdout, "no window change\n")
		}
		if commandOf(s.Command) == "hang" {
			<-s.Closed
		}
		return 0
	}})
	c := dial(t, srv, nil)
	tests := []struct {
		command string
		timeout time.Duration
	}{
		{command: "exit"},
		{command: "hang", timeout: 2 * time.Second}, // stopped by its timeout
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			ptmx, tty, err := pty.Open()
			if err != nil {
				t.Skipf("no pseudo-terminals here: %v", err)
			}
			defer ptmx.Close()
			defer tty.Close()
			if err := pty.Setsize(ptmx, &pty.Winsize{Cols: 100, Rows: 30}); err != nil {
				t.Fatal(err)
			}
			before, err := term.GetState(int(tty.Fd()))
			if err != nil {
				t.Fatal(err)
			}
			rawDuring := make(chan bool, 1)
			w := newSignalWriter("size 100x30")
			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				select {
				case <-w.seen:
				case <-stop:
					return
				}
				now, _ := term.GetState(int(tty.Fd()))
				rawDuring <- !reflect.DeepEqual(now, before)
				pty.Setsize(ptmx, &pty.Winsize{Cols: 120, Rows: 40})
				syscall.Kill(os.Getpid(), syscall.SIGWINCH)
			}()
			res, err := c.Run(t.Context(), &runner.Cmd{Command: tt.command, Stdin: tty, Stdout: w, Timeout: tt.timeout})
			close(stop)
			<-done
			var ee *runner.ExitError
			if tt.timeout == 0 && err != nil || tt.timeout > 0 && !(errors.As(err, &ee) && ee.TimedOut) {
				t.Fatalf("err %v", err)
			}
			if got, want := string(res.Stdout), "pty=true size 100x30\r\nresized 120x40\r\n"; got != want && got != "pty=true size 100x30\nresized 120x40\n" {
				t.Errorf("output %q, want %q", got, want)
			}
			select {
			case raw := <-rawDuring:
				if !raw {
					t.Error("the terminal was not in raw mode while the command ran")
				}
			default:
				t.Error("the command never reported its size")
			}
			after, err := term.GetState(int(tty.Fd()))
			if err != nil || !reflect.DeepEqual(after, before) {
				t.Errorf("the terminal was not restored")
			}
		})
	}
}
