package cli_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gotask/gotask/cli"
	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/task"
)

// TestRemoteSudoAttacks logs in to the real sshd as the sudo test user
// and runs there the commands an attacker would write to get the sudo
// password, as TestSudoAttacks does locally.
func TestRemoteSudoAttacks(t *testing.T) {
	sudoUser, password := os.Getenv(sudoUserEnv), os.Getenv(sudoPasswordEnv)
	if sudoUser == "" || password == "" {
		sshtest.MissingPeer(t, sudoUserEnv+" and "+sudoPasswordEnv+" are not set (.ci/run creates that user, whose sudo asks for its password, and sets them)")
	}
	if os.Geteuid() != 0 {
		sshtest.MissingPeer(t, "logging in to the test sshd as "+sudoUser+" needs the test to run as root")
	}
	e := &sudoEnv{password: password}
	if err := e.lookup(sudoUser); err != nil {
		t.Fatal(err)
	}
	e.needNoPasswdNobody(t)
	s := newSSH(t, sshtest.SSHDOptions{AnyUser: true}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host sudohost\n  HostName 127.0.0.1\n  Port %d\n  User %s\n", d.Port, sudoUser)
	})
	toml, err := os.ReadFile("testdata/sudo/tasks.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The same attacker with a terminal on the host, and a sudo step in
	// a directory that does not exist.
	text := string(toml)
	start := strings.Index(text, "[tasks.steal]")
	end := start + 1 + strings.Index(text[start+1:], "\n[tasks.")
	text += "\n" + strings.Replace(text[start:end], "[tasks.steal]", "[tasks.stealpty]\npty = true", 1)
	text += "\n[tasks.nodir]\nsudo = true\ndir = \"/nonexistent/gotask\"\nrun = \"echo ran\"\n"
	file := writeTasks(t, text)
	t.Setenv("GOTASK_SUDO_PASSWORD", password)

	// gotask runs in-process: its stdin is in, its stdout out.
	run := func(t *testing.T, in io.Reader, out *syncBuffer, name string) outcome {
		var stderr syncBuffer
		args := []string{"-f", file, "-F", s.Config, "-H", "sudohost", name}
		code := cli.Main(t.Context(), args, &cli.Streams{In: in, Out: out, ErrOut: &stderr}, cli.WithRegistry(task.NewRegistry()))
		o := outcome{code: code, stdout: out.String(), stderr: stderr.String()}
		t.Logf("gotask %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, o.stdout, o.stderr)
		return o
	}

	for _, name := range []string{"steal", "stealpty"} {
		t.Run("a command sudo runs without asking cannot get the password/"+name, func(t *testing.T) {
			o := run(t, strings.NewReader("data\n"), &syncBuffer{}, name)
			if o.code != 0 {
				t.Fatalf("exit %d, want 0", o.code)
			}
			if want := "read:" + hex.EncodeToString([]byte("data")); !strings.Contains(o.stdout, want) {
				t.Errorf("the command did not read the input (%q)", want)
			}
			if strings.Contains(o.stdout, hex.EncodeToString([]byte(password))) {
				t.Errorf("the command read the sudo password")
			}
			e.noPassword(t, o.stdout, o.stderr)
			// The attacker prints every prompt it finds (other gotask
			// runs on this machine may show theirs): look only for the
			// wrapper's own output.
			if strings.Contains(o.stdout+o.stderr, "[gotask sudo") {
				t.Errorf("the output shows the wrapper's request or marker")
			}
		})
	}

	t.Run("a sudo step in a missing directory does not run", func(t *testing.T) {
		o := run(t, nil, &syncBuffer{}, "nodir")
		if o.code == 0 || strings.Contains(o.stdout, "ran") {
			t.Errorf("exit %d, want a failure before the command runs", o.code)
		}
	})

	t.Run("a command that shows sudo's command lines does not fail sudo", func(t *testing.T) {
		// The command prints the process list, then waits for a line,
		// sent once gotask has printed that list.
		inR, inW := io.Pipe()
		out := &syncBuffer{}
		var once bool
		out.onWrite = func(all string) {
			if !once && strings.Contains(all, "sudo ") {
				once = true
				go func() { io.WriteString(inW, "go on\n"); inW.Close() }()
			}
		}
		o := run(t, inR, out, "pslist")
		inW.Close()
		if o.code != 0 {
			t.Fatalf("exit %d, want 0", o.code)
		}
		if !strings.Contains(o.stdout, "sudo ") {
			t.Errorf("the process list shows no sudo")
		}
		noExchange(t, o.stderr)
	})
}

// nonceLike is what a nonce looks like.
var nonceLike = regexp.MustCompile(`[0-9a-f]{32}`)

// noExchange fails the test if output shows gotask's exchange with sudo:
// its prompt, the wrapper's request or a nonce (echoed by a terminal).
func noExchange(t *testing.T, output string) {
	t.Helper()
	for _, s := range []string{noncePrompt, "[gotask sudo"} {
		if strings.Contains(output, s) {
			t.Errorf("the output shows %q:\n%s", s, output)
		}
	}
	if n := nonceLike.FindString(output); n != "" {
		t.Errorf("the output shows what looks like a nonce, %s:\n%s", n, output)
	}
}
