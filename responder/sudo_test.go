//go:build unix

package responder

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/shell"
)

func TestSudoCommand(t *testing.T) {
	tests := []struct {
		user, cmd string
		sudo      string // how the line runs sudo
	}{
		{"", "renice -n 10 -p 4242", "exec sudo -S -- sh -c "},
		{"deploy", "cd /srv/app && make install", "exec sudo -S -u deploy -- sh -c "},
		{"www data", "echo it's", "exec sudo -S -u 'www data' -- sh -c "},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+tc.cmd, func(t *testing.T) {
			c := (&Sudo{User: tc.user}).Command(t.Context(), tc.cmd)
			if !strings.HasPrefix(c.Line, "printf %s '"+c.ready+"' >&2 && IFS= read -r n && ") {
				t.Errorf("the line %s does not start by asking for the nonce", c.Line)
			}
			if !strings.Contains(c.Line, tc.sudo) {
				t.Errorf("the line %s does not run %q", c.Line, tc.sudo)
			}
			if strings.Contains(c.Line, c.nonce) {
				t.Errorf("the nonce is in the command line %s", c.Line)
			}
		})
	}
	t.Run("a fresh nonce per command", func(t *testing.T) {
		s := &Sudo{}
		a, b := s.Command(t.Context(), "x"), s.Command(t.Context(), "x")
		if a.nonce == b.nonce || a.marker == b.marker || len(a.nonce) != 32 {
			t.Errorf("two commands of one Sudo share nonce %q/%q or marker", a.nonce, b.nonce)
		}
	})
}

// fakeSudo is a shell script that stands in for sudo: it takes the
// options Sudo.Command gives, prompts with $SUDO_PROMPT on stderr and reads a line,
// up to three times, like sudo -S. The right password is in the file
// "password" next to it; without that file it asks for nothing, as sudo
// does within its timeout. It logs each attempt, its arguments and its
// environment.
const fakeSudo = `#!/bin/sh
dir=$(dirname "$0")
prompt=${SUDO_PROMPT:-Password: }
while [ $# -gt 0 ]; do
	case $1 in
	-S) shift ;;
	-u) shift 2 ;;
	--) shift; break ;;
	*) echo "fake sudo: unknown option $1" >&2; exit 2 ;;
	esac
done
printf '%s\n' "$@" >>"$dir/argv"
env >>"$dir/env"
if [ ! -f "$dir/password" ]; then exec "$@"; fi
want=$(cat "$dir/password")
tries=0
while [ $tries -lt 3 ]; do
	printf '%s' "$prompt" >&2
	IFS= read -r line || exit 1
	tries=$((tries + 1))
	echo attempt >>"$dir/attempts"
	if [ "$line" = "$want" ]; then exec "$@"; fi
	echo "Sorry, try again." >&2
done
echo "sudo: 3 incorrect password attempts" >&2
exit 1
`

// sudoBox is a directory holding the fake sudo.
type sudoBox struct {
	dir string
}

func newSudoBox(t *testing.T, password string) *sudoBox {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte(fakeSudo), 0o755); err != nil {
		t.Fatal(err)
	}
	if password != "" {
		if err := os.WriteFile(filepath.Join(dir, "password"), []byte(password), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &sudoBox{dir: dir}
}

// read returns the content of the box's log file name.
func (b *sudoBox) read(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(data)
}

// result is what running a command under a watcher left behind.
type result struct {
	stdout, stderr string
	stdin          string // everything the watcher wrote
	err            error  // the first error from Watch
}

// run runs command with /bin/sh, the fake sudo first in PATH, and feeds
// its output to w in small chunks the way a runner does: one goroutine
// per stream, answers written to the command's stdin. When Watch fails,
// it stops the command.
func (b *sudoBox) run(t *testing.T, command string, w Watcher) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "/bin/sh", "-c", command)
	cmd.Env = append(os.Environ(), "PATH="+b.dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.WaitDelay = 10 * time.Second
	stdinPipe, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		stdin    bytes.Buffer
		firstErr error
		outs     [2]bytes.Buffer
	)
	answer := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		stdin.Write(p)
		return stdinPipe.Write(p)
	})
	stop := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			stdinPipe.Close() // the fake sudo's read fails: it exits
			cmd.Process.Kill()
		}
	}
	var wg sync.WaitGroup
	for i, pipe := range []interface {
		Read([]byte) (int, error)
	}{stdoutPipe, stderrPipe} {
		wg.Go(func() {
			buf := make([]byte, 7) // small, so that prompts arrive split
			for {
				n, err := pipe.Read(buf)
				if n > 0 {
					outs[i].Write(buf[:n])
					if werr := w.Watch(Stream(i), buf[:n], answer); werr != nil {
						stop(werr)
					}
				}
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	waitErr := cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	if firstErr == nil && waitErr != nil {
		t.Fatalf("command failed: %v\nstderr: %s", waitErr, outs[1].String())
	}
	return result{stdout: outs[0].String(), stderr: outs[1].String(), stdin: stdin.String(), err: firstErr}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestSudoAnswersThroughSh(t *testing.T) {
	const right = "c0rrect horse"
	errKeyring := errors.New("keyring locked")
	tests := []struct {
		name     string
		sudoPW   string // what the fake sudo wants; "" asks nothing
		given    string // what Password returns
		givenErr error
		nilPW    bool   // no Password at all
		before   string // run before sudo, in the same shell
		cmd      string
		wantOut  string
		wantErr  error // errors.Is target; errAuthError means *AuthError
		tries    int   // lines the fake sudo read
		asked    int32 // calls to Password
	}{
		{name: "right password", sudoPW: right, given: right,
			cmd: `cd / && pwd && printf '%s\n' "it's"`, wantOut: "/\nit's\n", tries: 1, asked: 1},
		{name: "wrong password fails at the second prompt", sudoPW: right, given: "wr0ng-Zq9",
			cmd: "echo ran", wantErr: errAuthError, tries: 1, asked: 1},
		{name: "no prompt, no password asked", cmd: "echo ran", wantOut: "ran\n", tries: 0, asked: 0},
		{name: "password source fails", sudoPW: right, givenErr: errKeyring,
			cmd: "echo ran", wantErr: errKeyring, tries: 0, asked: 1},
		{name: "no password source", sudoPW: right, nilPW: true,
			cmd: "echo ran", wantErr: ErrNoPassword, tries: 0},
		{name: "a prompt without the nonce is not answered", sudoPW: right, given: right,
			before: `printf '[sudo] password for root: ' >&2; `, cmd: "echo ran", wantOut: "ran\n", tries: 1, asked: 1},
		{name: "the command's prompt is not answered, nor a wrong password", sudoPW: right, given: right,
			cmd: `printf '%s' "$PROMPT" >&2; printf '%s' "$PROMPT"; echo ran`, wantOut: "PROMPTran\n", tries: 1, asked: 1},
		{name: "nor when sudo did not ask", given: right,
			cmd: `printf '%s' "$PROMPT" >&2; printf '%s' "$PROMPT"; echo ran`, wantOut: "PROMPTran\n", tries: 0, asked: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			box := newSudoBox(t, tc.sudoPW)
			var asked atomic.Int32
			secrets := new(Secrets)
			s := &Sudo{Host: "web1", Task: "renice", User: "root", Secrets: secrets}
			if !tc.nilPW {
				s.Password = func(context.Context) (string, error) {
					asked.Add(1)
					return tc.given, tc.givenErr
				}
			}
			c := s.Command(t.Context(), tc.cmd)
			// The command may know sudo's prompt, as if it could see it
			// somewhere: after the marker that gives it nothing.
			res := box.run(t, "export PROMPT="+shell.Quote(c.prompt)+"; "+tc.before+c.Line, c)
			res.stdout, res.stderr = string(c.Clean([]byte(res.stdout))), string(c.Clean([]byte(res.stderr)))

			switch {
			case tc.wantErr == errAuthError:
				var af *AuthError
				if !errors.As(res.err, &af) {
					t.Fatalf("error %v, want an *AuthError", res.err)
				}
				if *af != (AuthError{Host: "web1", Task: "renice", User: "root"}) {
					t.Errorf("AuthError %+v does not name host, task and user", *af)
				}
			case tc.wantErr != nil:
				if !errors.Is(res.err, tc.wantErr) {
					t.Fatalf("error %v, want %v", res.err, tc.wantErr)
				}
			case res.err != nil:
				t.Fatalf("unexpected error %v\nstderr: %s", res.err, res.stderr)
			}
			if want := strings.ReplaceAll(tc.wantOut, "PROMPT", c.prompt); res.stdout != want {
				t.Errorf("stdout %q, want %q", res.stdout, want)
			}
			if got := strings.Count(box.read(t, "attempts"), "attempt"); got != tc.tries {
				t.Errorf("sudo read %d passwords, want %d", got, tc.tries)
			}
			if got := asked.Load(); got != tc.asked {
				t.Errorf("Password called %d times, want %d", got, tc.asked)
			}
			switch {
			case tc.tries > 0 && res.stdin != c.nonce+"\n"+tc.given+"\n":
				t.Errorf("wrote %q to stdin, want the nonce, then the password once", res.stdin)
			case tc.tries == 0 && tc.wantErr == nil && res.stdin != c.nonce+"\n":
				t.Errorf("wrote %q to stdin, want the nonce only", res.stdin)
			}
			if tc.given != "" {
				for _, log := range []string{"argv", "env"} {
					if strings.Contains(box.read(t, log), tc.given) {
						t.Errorf("the password appears in sudo's %s", log)
					}
				}
			}
			if tc.asked > 0 && tc.givenErr == nil {
				if got := string(secrets.Redact([]byte("pw=" + tc.given))); got != "pw=****" {
					t.Errorf("the password was not added to Secrets: %q", got)
				}
			}
		})
	}
}

// errAuthError marks test cases that want an *AuthError.
var errAuthError = errors.New("want *AuthError")

func TestSudoAsksOncePerSudo(t *testing.T) {
	box := newSudoBox(t, "pw123")
	var asked atomic.Int32
	s := &Sudo{Password: func(context.Context) (string, error) {
		asked.Add(1)
		return "pw123", nil
	}}
	for i := range 3 {
		c := s.Command(t.Context(), "echo ok")
		if res := box.run(t, c.Line, c); res.err != nil || string(c.Clean([]byte(res.stdout))) != "ok\n" {
			t.Fatalf("command %d: %q, %v", i, res.stdout, res.err)
		}
	}
	if got := strings.Count(box.read(t, "attempts"), "attempt"); got != 3 {
		t.Errorf("sudo read %d passwords, want 3", got)
	}
	if got := asked.Load(); got != 1 {
		t.Errorf("Password called %d times for three commands, want 1", got)
	}
}

func TestSudoRejectsPasswordWithLineBreak(t *testing.T) {
	s := &Sudo{Password: func(context.Context) (string, error) { return "a\nb", nil }}
	var stdin bytes.Buffer
	c := s.Command(t.Context(), "true")
	err := c.Watch(Stderr, []byte(c.prompt), &stdin)
	if err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("error %v, want one about the line break", err)
	}
	if stdin.Len() != 0 {
		t.Errorf("wrote %q", stdin.String())
	}
}

func TestAuthErrorMessage(t *testing.T) {
	tests := []struct {
		err  AuthError
		want string
	}{
		{AuthError{Host: "web1", Task: "renice", User: "root"}, `sudo: wrong password for user "root" on host web1 in task "renice"`},
		{AuthError{Task: "renice"}, `sudo: wrong password in task "renice"`},
		{AuthError{Host: "web1"}, `sudo: wrong password on host web1`},
		{AuthError{}, `sudo: wrong password`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			var af *AuthError
			if !errors.As(errors.Join(errors.New("run"), &tc.err), &af) {
				t.Error("errors.As does not find it")
			}
		})
	}
}
