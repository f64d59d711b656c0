package local

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/internal/capture"
)

// userTerminal opens a pseudo-terminal to stand for the user's: the test
// types into and sizes it through the master; Run gets the slave as Stdin.
func userTerminal(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	if err := pty.Setsize(master, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

func termios(t *testing.T, f *os.File) *unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio
}

func TestTerminalIsRawWhileTheCommandRunsAndRestoredAfter(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cmd     string
		timeout time.Duration
	}{
		{name: "success", cmd: "echo ready; read line"},
		{name: "failure", cmd: "echo ready; read line; exit 3"},
		{name: "timeout", cmd: "echo ready; sleep 30", timeout: time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			um, us := userTerminal(t)
			before := termios(t, us)
			var during *unix.Termios
			ready := &triggerWriter{pattern: "ready", fire: func() {
				during = termios(t, us)
				_, _ = um.Write([]byte("go on\r"))
			}}
			_, _ = New().Run(t.Context(), &runner.Cmd{Command: tt.cmd, Stdin: us, Stdout: ready, Timeout: tt.timeout})
			if during == nil {
				t.Fatal("the command never said ready")
			}
			if during.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
				t.Errorf("terminal not raw while the command ran: lflag %#x", during.Lflag)
			}
			if after := termios(t, us); *after != *before {
				t.Errorf("terminal settings not restored:\n got %+v\nwant %+v", *after, *before)
			}
		})
	}
}

func TestCtrlCReachesTheCommand(t *testing.T) {
	um, us := userTerminal(t)
	ready := &triggerWriter{pattern: "ready", fire: func() { _, _ = um.Write([]byte{0x03}) }}
	res, err := New().Run(t.Context(), &runner.Cmd{
		Command: `trap 'echo got-INT; exit 7' INT; echo ready; while :; do sleep 0.05; done`,
		Stdin:   us, Stdout: ready, Timeout: hangGuard,
	})
	var ee *runner.ExitError
	if !errors.As(err, &ee) || ee.Code != 7 || ee.TimedOut {
		t.Errorf("err = %v, want exit status 7 from the command's INT trap", err)
	}
	if res == nil || !bytes.Contains(res.Stdout, []byte("got-INT")) {
		t.Errorf("the command did not see Ctrl-C as SIGINT")
	}
}

func TestWindowSizeFollowsTheTerminal(t *testing.T) {
	um, us := userTerminal(t)
	ready := &triggerWriter{pattern: "ready", fire: func() {
		if err := pty.Setsize(um, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
			t.Error(err)
		}
		// The kernel signals the terminal's foreground group, which
		// this test is not: say it to ourselves, as the terminal would.
		_ = syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	}}
	res, err := New().Run(t.Context(), &runner.Cmd{
		Command: `trap 'stty size; exit 0' WINCH; stty size; echo ready; while :; do sleep 0.05; done`,
		Stdin:   us, Stdout: ready, Timeout: hangGuard,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(res.Stdout)); len(got) < 5 || got[0] != "30" || got[1] != "100" || got[3] != "40" || got[4] != "120" {
		t.Errorf("output %q, want the size 30 100, then 40 120 after the resize", res.Stdout)
	}
}

// TestInputIsLeftForTheNextCommand runs a command that reads no input:
// what arrives on stdin after it ended belongs to whoever reads next,
// not to a forwarder left behind. Each kind of stdin takes a different
// way: a terminal and a pipe are opened again through /proc, a socket
// cannot be and is read with poll(2).
func TestInputIsLeftForTheNextCommand(t *testing.T) {
	inputs := map[string]func(t *testing.T) (in *os.File, w io.Writer){
		"terminal": func(t *testing.T) (*os.File, io.Writer) { // an interactive command
			um, us := userTerminal(t)
			return us, um
		},
		"pipe": func(t *testing.T) (*os.File, io.Writer) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close(); w.Close() })
			return r, w
		},
		"socket": func(t *testing.T) (*os.File, io.Writer) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			r, w := os.NewFile(uintptr(fds[0]), "socket"), os.NewFile(uintptr(fds[1]), "socket")
			t.Cleanup(func() { r.Close(); w.Close() })
			return r, w
		},
	}
	for name, open := range inputs {
		t.Run(name, func(t *testing.T) {
			in, w := open(t)
			mode := runner.PtyOn // with a pipe or a socket, the command would read stdin itself
			if name == "terminal" {
				mode = runner.PtyAuto
			}
			if _, err := New().Run(t.Context(), &runner.Cmd{Command: "true", Stdin: in, Pty: mode}); err != nil {
				t.Fatal(err)
			}
			forwarderGone(t)
			if _, err := w.Write([]byte("next\n")); err != nil {
				t.Fatal(err)
			}
			got := make(chan string, 1)
			go func() {
				b := make([]byte, 64)
				n, _ := in.Read(b)
				got <- string(b[:n])
			}()
			select {
			case s := <-got:
				if s != "next\n" {
					t.Errorf("read %q after the command, want %q", s, "next\n")
				}
			case <-time.After(hangGuard):
				t.Fatal("the input written after the command was taken by someone else")
			}
		})
	}
}

// forwarderGone fails the test if an input forwarder is still there a
// while after its command ended. (Stopping it waits until it is done,
// but it may take a moment more to exit.)
func forwarderGone(t *testing.T) {
	t.Helper()
	var stacks string
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, ".forwardInput.") && !strings.Contains(stacks, ".ptyInput.") && !strings.Contains(stacks, "capture.(*Forwarder)") {
			return
		}
	}
	t.Fatalf("an input forwarder outlived its command:\n%s", stacks)
}

func TestStopEndsAPendingRead(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, drain := range []bool{false, true} {
		fr := &fileReader{f: r}
		done := make(chan error, 1)
		go func() {
			_, err := fr.Read(make([]byte, 8))
			done <- err
		}()
		fr.Stop(drain)
		select {
		case err := <-done:
			if !errors.Is(err, capture.ErrStopped) {
				t.Errorf("drain=%v: Read returned %v, want errStopped", drain, err)
			}
		case <-time.After(hangGuard):
			t.Fatalf("drain=%v: Stop did not end the pending Read", drain)
		}
		_ = r.SetReadDeadline(time.Time{})
	}
}

func TestStopDrainReadsWhatIsReady(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fr := &fileReader{f: r}
	if _, err := w.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	fr.Stop(true)
	got, err := io.ReadAll(fr)
	if string(got) != "tail" || !errors.Is(err, capture.ErrStopped) {
		t.Errorf("after Stop(true): read %q, %v; want %q, errStopped", got, err, "tail")
	}
	if _, err := w.Write([]byte("later")); err != nil {
		t.Fatal(err)
	}
	fr = &fileReader{f: r}
	fr.Stop(false)
	if n, err := fr.Read(make([]byte, 8)); n != 0 || !errors.Is(err, capture.ErrStopped) {
		t.Errorf("after Stop(false): read %d bytes, %v; want none, errStopped", n, err)
	}
}

// TestInputReachesEachCommandOfARun types a line for each of several
// commands of one Runner, which share one copy of the terminal opened
// again: each must get its own line, though the last one's Stop left
// the copy with a deadline in the past.
func TestInputReachesEachCommandOfARun(t *testing.T) {
	um, us := userTerminal(t)
	r := New()
	for i := range 3 {
		line := "line-" + strconv.Itoa(i)
		ready := &triggerWriter{pattern: "ready", fire: func() { _, _ = um.Write([]byte(line + "\r")) }}
		res, err := r.Run(t.Context(), &runner.Cmd{
			Command: `echo ready; read line; echo "got=$line"`,
			Stdin:   us, Stdout: ready, Timeout: hangGuard,
		})
		if err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
		if !bytes.Contains(res.Stdout, []byte("got="+line)) {
			t.Errorf("command %d: output %q, want got=%s", i, res.Stdout, line)
		}
	}
}

// TestSharedIsKeptThenLetGo checks what commands run from a terminal
// share: the SIGWINCH registration and the copy of the input outlive a
// command, for the next one, and letGo ends both.
func TestSharedIsKeptThenLetGo(t *testing.T) {
	_, us := userTerminal(t)
	var s shared
	master, slave, err := openPty()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	s.followSize(us, master)
	if ws, err := unix.IoctlGetWinsize(int(slave.Fd()), unix.TIOCGWINSZ); err != nil || ws.Row != 30 || ws.Col != 100 {
		t.Errorf("size %+v, %v; want 30x100 from the user's terminal", ws, err)
	}
	in, release, err := openInput(us, &s)
	if err != nil {
		t.Fatal(err)
	}
	again := in.(*fileReader).f
	release()
	s.unfollowSize(master)

	if s.winch == nil || s.takeInput(us) != again {
		t.Fatal("let go when the command ended: the next command would set it all up again")
	}
	s.putInput(us, again)
	s.letGo()
	if s.winch != nil {
		t.Error("still listening for SIGWINCH after letGo")
	}
	if _, err := again.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the copy of the input is still open after letGo (Stat: %v)", err)
	}
}

// TestSharedIsLetGoWithTheRunner drops a Runner that ran a command from
// a terminal: once it is garbage, what its commands shared is let go.
func TestSharedIsLetGoWithTheRunner(t *testing.T) {
	_, us := userTerminal(t)
	s := func() *shared {
		r := New()
		if _, err := r.Run(t.Context(), &runner.Cmd{Command: "true", Stdin: us}); err != nil {
			t.Fatal(err)
		}
		return r.shared
	}()
	s.mu.Lock()
	kept := s.winch != nil && len(s.inputs) == 1
	s.mu.Unlock()
	if !kept {
		t.Fatal("nothing kept after a command from a terminal")
	}
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
		runtime.GC() // the Runner's cleanup runs some time after a collection
		s.mu.Lock()
		gone := s.gone && s.winch == nil && s.inputs == nil
		s.mu.Unlock()
		if gone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a Runner that is garbage still listens for SIGWINCH and keeps its copy of the input")
		}
	}
}

// TestUnreadInputDoesNotHangTheRunner gives a command that reads nothing
// more input than its terminal can hold (in raw mode, where the terminal
// stops taking it rather than drop it): the forwarder, waiting to write
// the rest, must not keep Run from returning when the command ends, even
// though a background child that ignores the hang-up keeps the terminal
// open (else the write would fail with EIO).
func TestUnreadInputDoesNotHangTheRunner(t *testing.T) {
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return // closed below
			}
		}
	}()
	defer w.Close()
	done := make(chan error, 1)
	go func() {
		_, err := New().Run(t.Context(), &runner.Cmd{Command: "stty raw -echo; (trap '' HUP; exec sleep 3600) & echo $! > bg; sleep 0.2", Dir: dir, Stdin: r, Pty: runner.PtyOn})
		done <- err
	}()
	// The background child keeps the terminal open until it is killed.
	defer func() { _ = syscall.Kill(readPid(t, filepath.Join(dir, "bg")), syscall.SIGKILL) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(hangGuard):
		t.Fatal("Run did not return: the input forwarder is stuck writing to the finished command's terminal")
	}
}
