package sshtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"os/user"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func clientConfig(s *Server) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            "tester",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.ClientKey)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	}
}

func TestServerRunsCommandsAndFaults(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		command    string
		wantOut    string
		wantStatus int // -1: no exit status
	}{
		{name: "shell", command: "echo hi; exit 3", wantOut: "hi\n", wantStatus: 3},
		{name: "home", command: `test "$PWD" = "$HOME" && echo home`, wantOut: "home\n"},
		{name: "no exit status", opts: Options{NoExitStatus: true}, command: "echo x", wantOut: "x\n", wantStatus: -1},
		{name: "sudo prompt unanswered", opts: Options{Handler: SudoPrompt("pw? ", "s")}, command: "sudo", wantStatus: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, tt.opts)
			c, err := ssh.Dial("tcp", s.Addr, clientConfig(s))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			sess, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			sess.Stdout = &out
			err = sess.Run(tt.command)
			var ee *ssh.ExitError
			var missing *ssh.ExitMissingError
			switch {
			case tt.wantStatus == -1:
				if !errors.As(err, &missing) {
					t.Errorf("err %v, want a missing exit status", err)
				}
			case tt.wantStatus == 0:
				if err != nil {
					t.Errorf("err %v", err)
				}
			case !errors.As(err, &ee) || ee.ExitStatus() != tt.wantStatus:
				t.Errorf("err %v, want status %d", err, tt.wantStatus)
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout %q, want %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestServerRefusesSessionsBeyondMax(t *testing.T) {
	s := Start(t, Options{MaxSessions: 2})
	c, err := ssh.Dial("tcp", s.Addr, clientConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 2; i++ {
		if _, err := c.NewSession(); err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
	}
	var oce *ssh.OpenChannelError
	if _, err := c.NewSession(); !errors.As(err, &oce) || oce.Reason != ssh.ResourceShortage {
		t.Fatalf("third session: %v, want a resource-shortage refusal", err)
	}
}

func TestServerIgnoresKeepalives(t *testing.T) {
	s := Start(t, Options{IgnoreKeepalives: true})
	c, err := ssh.Dial("tcp", s.Addr, clientConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	replied := make(chan struct{})
	go func() {
		c.SendRequest("keepalive@openssh.com", true, nil)
		close(replied)
	}()
	// A command still works while the keepalive hangs...
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := sess.Output("echo alive"); err != nil || string(out) != "alive\n" {
		t.Fatalf("%q %v", out, err)
	}
	select {
	case <-replied:
		t.Fatal("the keepalive was answered")
	default:
	}
	c.Close() // ...and closing unblocks it.
	<-replied
}

func TestServerOffersSeveralHostKeys(t *testing.T) {
	s := Start(t, Options{HostKeyTypes: []string{"ecdsa", "ed25519"}})
	for _, typ := range []string{ssh.KeyAlgoECDSA256, ssh.KeyAlgoED25519} {
		cfg := clientConfig(s)
		cfg.HostKeyAlgorithms = []string{typ}
		var got string
		cfg.HostKeyCallback = func(_ string, _ net.Addr, key ssh.PublicKey) error {
			got = key.Type()
			return nil
		}
		c, err := ssh.Dial("tcp", s.Addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if got != typ {
			t.Errorf("asked for %s, got %s", typ, got)
		}
	}
	if !strings.HasPrefix(s.KnownHostsLine("ed25519"), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", s.Port)) {
		t.Errorf("known_hosts line %q", s.KnownHostsLine("ed25519"))
	}
}

// TestStartSSHD checks the helper with OpenSSH's own client.
func TestStartSSHD(t *testing.T) {
	d := StartSSHD(t)
	bin, err := exec.LookPath("ssh")
	if err != nil {
		MissingPeer(t, "the OpenSSH client ssh is not installed (Debian: apt-get install openssh-client)")
	}
	out, err := exec.Command(bin, "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+d.KnownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-i", d.KeyFile, "-p", fmt.Sprint(d.Port), d.User+"@"+d.Host, "echo $USER-ok").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != d.User+"-ok" {
		t.Fatalf("ssh: %v: %s\nsshd log:\n%s", err, out, d.Log())
	}
}

// TestSSHDIgnoresDotfiles: commands on the test sshd run with HOME set to
// an empty directory, not the login user's home, so that the machine's
// dotfiles (a ~/.bashrc running a version manager's init, say, which bash
// reads even for `bash -c` under sshd) neither slow nor change them. They
// still start in the login directory from the password database, as sshd
// always does, and the login shell is the user's own.
func TestSSHDIgnoresDotfiles(t *testing.T) {
	d := StartSSHD(t)
	bin, err := exec.LookPath("ssh")
	if err != nil {
		MissingPeer(t, "the OpenSSH client ssh is not installed (Debian: apt-get install openssh-client)")
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-F", "/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+d.KnownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-i", d.KeyFile, "-p", fmt.Sprint(d.Port), d.User+"@"+d.Host,
		`printf '%s\n' "$HOME" "$(pwd)" "$(ls -A "$HOME" | wc -l)" "$BASH_ENV$ENV"`).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh: %v: %s\nsshd log:\n%s", err, out, d.Log())
	}
	got := strings.Split(string(out), "\n")
	if len(got) != 5 {
		t.Fatalf("ssh printed %q, want 4 lines", out)
	}
	home, pwd, entries, startup := got[0], got[1], strings.TrimSpace(got[2]), got[3]
	if home == u.HomeDir || home != d.Home {
		t.Errorf("HOME = %q, want the empty %q, not the login home %q", home, d.Home, u.HomeDir)
	}
	if entries != "0" {
		t.Errorf("HOME holds %s entries, want none", entries)
	}
	if pwd != u.HomeDir {
		t.Errorf("commands start in %q, want the login directory %q", pwd, u.HomeDir)
	}
	if startup != "" {
		t.Errorf("BASH_ENV/ENV = %q, want neither set", startup)
	}
}
