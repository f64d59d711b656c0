package sshtest

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// Shell is the default Handler: it runs the command with /bin/sh -c in
// the server's Home, with HOME set to it, like sshd running the login
// shell. Under a pty the command gets a real pseudo-terminal, so that a
// 0x03 typed by the client interrupts it and closing the session hangs it
// up. Signals from the client go to the command's process group.
func Shell(s *Session) int {
	cmd := exec.Command("/bin/sh", "-c", s.Command)
	cmd.Dir = s.Home
	cmd.Env = append(os.Environ(), "HOME="+s.Home)
	cmd.Env = append(cmd.Env, s.Env...)
	if s.Pty {
		return s.runPty(cmd)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 255
	}
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		io.WriteString(s.Stderr, err.Error()+"\n")
		return 127
	}
	pgid := cmd.Process.Pid
	s.server.track(pgid, true)
	defer s.server.track(pgid, false)
	go func() {
		io.Copy(stdin, s.Stdin)
		stdin.Close()
	}()
	exited := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-s.Signals:
				if n, ok := signals[sig]; ok {
					syscall.Kill(-pgid, n)
				}
			case <-exited:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(exited)
	return s.status(cmd, err)
}

func (s *Session) runPty(cmd *exec.Cmd) int {
	cols, rows := s.Cols, s.Rows
	if cols <= 0 || rows <= 0 {
		cols, rows = 80, 24
	}
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		io.WriteString(s.Stdout, err.Error()+"\r\n")
		return 127
	}
	pgid := cmd.Process.Pid // a session leader: Setsid
	s.server.track(pgid, true)
	defer s.server.track(pgid, false)
	go io.Copy(tty, s.Stdin)
	copied := make(chan struct{})
	go func() {
		io.Copy(s.Stdout, tty) // ends with EIO when the last slave fd closes
		close(copied)
	}()
	exited := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-s.Signals:
				if n, ok := signals[sig]; ok {
					syscall.Kill(-pgid, n)
				}
			case size := <-s.WindowChanges:
				pty.Setsize(tty, &pty.Winsize{Cols: uint16(size[0]), Rows: uint16(size[1])})
			case <-s.Closed:
				// Hang up, as sshd does when the session closes.
				syscall.Kill(-pgid, syscall.SIGHUP)
				return
			case <-exited:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(exited)
	select {
	case <-copied:
	case <-time.After(time.Second): // a background process holds the tty
	}
	tty.Close()
	return s.status(cmd, err)
}

func (s *Session) status(cmd *exec.Cmd, err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			for name, n := range signals {
				if n == ws.Signal() {
					s.ExitSignal(name)
				}
			}
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return 255
	}
	return 0
}

var signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL,
	"TERM": syscall.SIGTERM, "QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1,
}

func killGroup(pgid int) { syscall.Kill(-pgid, syscall.SIGKILL) }

// SudoPrompt returns a Handler that behaves like `sudo -S -p PROMPT`: it
// writes prompt to stderr, reads a line from stdin and, if it is
// password, prints "ok" and exits 0; otherwise it prints "Sorry, try
// again." and exits 1.
func SudoPrompt(prompt, password string) Handler {
	return func(s *Session) int {
		io.WriteString(s.Stderr, prompt)
		line, err := bufio.NewReader(s.Stdin).ReadString('\n')
		if err != nil && line == "" {
			io.WriteString(s.Stderr, "\nsudo: no password was provided\n")
			return 1
		}
		if strings.TrimRight(line, "\r\n") == password {
			io.WriteString(s.Stdout, "ok\n")
			return 0
		}
		io.WriteString(s.Stderr, "Sorry, try again.\n")
		return 1
	}
}
