package sshtest

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gotask/gotask/internal/sshd"
)

// RequireRealPeersEnv names the environment variable that turns a missing
// sshd (or sudo setup) from a skip into a failure: CI sets it to 1 so that
// the real-peer tests cannot silently stop running.
const RequireRealPeersEnv = "GOTASK_REQUIRE_REAL_PEERS"

// SSHD is a real OpenSSH sshd started by StartSSHD.
type SSHD struct {
	// Addr is 127.0.0.1:PORT; Host and Port are its parts.
	Addr string
	Host string
	Port int
	// User is the login name: the user running the test.
	User string
	// KeyFile is an unencrypted ed25519 private key the server accepts
	// (KeyFile.pub holds its public half); Key is the same key.
	KeyFile string
	Key     *Key
	// KnownHosts is a known_hosts file holding the server's host key for
	// [127.0.0.1]:PORT; HostKey is that key.
	KnownHosts string
	HostKey    ssh.PublicKey
	// Dir is the temporary directory with the configuration and keys.
	Dir string
	// Home is the HOME that commands run with: an empty directory, so
	// that the login shell reads none of the machine's dotfiles (bash,
	// run by sshd with -c, reads ~/.bashrc even then). sshd still starts
	// commands and SFTP in the login user's home directory from the
	// password database, which "~" means in SFTP paths.
	Home string

	authKeys string // the AuthorizedKeysFile
	server   *sshd.Server
}

// SSHDOptions adjusts the sshd that StartSSHDWith starts. The zero value
// starts the same server as StartSSHD.
type SSHDOptions struct {
	// AnyUser lets every local user log in with KeyFile, not only the
	// user running the test (which needs the test to run as root). sshd
	// reads authorized_keys as the user logging in, so the file then
	// lives in a directory of its own under os.TempDir that every user
	// can read, beside Home. False keeps both in the private Dir.
	AnyUser bool
}

// Log returns what sshd has written to stderr so far (LogLevel VERBOSE).
func (d *SSHD) Log() string { return d.server.Log() }

// AuthorizeKey adds a public key to the server's authorized_keys.
func (d *SSHD) AuthorizeKey(t testing.TB, key ssh.PublicKey) {
	t.Helper()
	f, err := os.OpenFile(d.authKeys, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(ssh.MarshalAuthorizedKey(key)); err != nil {
		t.Fatal(err)
	}
}

// MissingPeer skips the test with the reason (which should say how to
// install what is missing), or fails it when
// GOTASK_REQUIRE_REAL_PEERS=1 says the real peers must be there.
func MissingPeer(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(RequireRealPeersEnv) == "1" {
		t.Fatalf("%s, and %s=1 requires it", reason, RequireRealPeersEnv)
	}
	t.Skipf("%s; .ci/run sets it up", reason)
}

// StartSSHD starts a real OpenSSH sshd (-D -e -f CONFIG) on a free
// loopback port, running as the current user, with a fresh ed25519 host
// key and an authorized client key in a temporary directory. It allows
// root logins (tests may run as root), public key authentication only,
// TCP forwarding (for ProxyJump) and the internal SFTP server. Commands
// run in the login shell with the environment sshd makes, and HOME set
// to an empty directory (see SSHD.Home), so that no dotfile of the
// machine's slows them or changes what they do. The server stops when
// the test ends.
//
// Without sshd the test is skipped, or failed when
// GOTASK_REQUIRE_REAL_PEERS=1. As root, sshd needs its privilege
// separation directory /run/sshd, which StartSSHD creates if missing.
func StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	return StartSSHDWith(t, SSHDOptions{})
}

// StartSSHDWith is StartSSHD with options.
func StartSSHDWith(t testing.TB, opts SSHDOptions) *SSHD {
	t.Helper()
	bin := sshd.Find()
	if bin == "" {
		MissingPeer(t, "OpenSSH sshd is not installed (no /usr/sbin/sshd, none on $PATH; Debian: apt-get install openssh-server)")
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("finding the current user: %v", err)
	}
	dir := t.TempDir()
	// sshd refuses keys in group- or world-writable places even with
	// StrictModes off for some checks; keep the directory private.
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	d := &SSHD{Dir: dir, User: u.Username, Host: "127.0.0.1"}

	hostKey, err := NewKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	hostKeyFile := filepath.Join(dir, "ssh_host_ed25519_key")
	if err := hostKey.Write(hostKeyFile, ""); err != nil {
		t.Fatal(err)
	}
	d.HostKey = hostKey.PublicKey()
	d.Key, err = NewKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	d.KeyFile = filepath.Join(dir, "id_ed25519")
	if err := d.Key.Write(d.KeyFile, ""); err != nil {
		t.Fatal(err)
	}
	d.authKeys = filepath.Join(dir, "authorized_keys")
	d.Home = filepath.Join(dir, "home")
	keysMode := os.FileMode(0o600)
	if opts.AnyUser {
		keysDir, err := os.MkdirTemp("", "sshtest-keys-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(keysDir) })
		if err := os.Chmod(keysDir, 0o755); err != nil {
			t.Fatal(err)
		}
		d.authKeys, keysMode = filepath.Join(keysDir, "authorized_keys"), 0o644
		d.Home = filepath.Join(keysDir, "home")
	}
	if err := os.Mkdir(d.Home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.authKeys, ssh.MarshalAuthorizedKey(d.Key.PublicKey()), keysMode); err != nil {
		t.Fatal(err)
	}

	srv, err := sshd.Start(t.Context(), bin, sshd.Options{Dir: dir, HostKey: hostKeyFile, AuthorizedKeys: d.authKeys, Home: d.Home})
	if err != nil {
		t.Fatal(err)
	}
	d.server, d.Port, d.Addr = srv, srv.Port, srv.Addr
	t.Cleanup(func() {
		srv.Stop()
		if t.Failed() {
			t.Logf("sshd log:\n%s", srv.Log())
		}
	})
	d.KnownHosts = filepath.Join(dir, "known_hosts")
	line := fmt.Sprintf("[%s]:%d %s", d.Host, d.Port, ssh.MarshalAuthorizedKey(d.HostKey))
	if err := os.WriteFile(d.KnownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}
