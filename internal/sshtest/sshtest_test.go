package sshtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os/exec"
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
