package remote

import (
	"bufio"
	"bytes"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestSSHConfigAgainstOpenSSH resolves hosts with this package and with
// `ssh -G`, which prints the configuration ssh would use without
// connecting, and compares HostName, User, Port and IdentityFile. It is
// skipped without ssh, unless GOTASK_REQUIRE_REAL_PEERS=1.
func TestSSHConfigAgainstOpenSSH(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		sshtest.MissingPeer(t, "OpenSSH's ssh is not installed (Debian: apt-get install openssh-client)")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)        // for ~ and relative Include paths, ours and ssh's
	t.Setenv("USER", me.Username) // localUser, as ssh's getpwuid
	ssh := filepath.Join(home, ".ssh")
	writeFile(t, filepath.Join(ssh, "conf.d", "10-web.conf"), "Host web\n  User inc-web\n  IdentityFile /keys/inc\n")
	writeFile(t, filepath.Join(ssh, "conf.d", "20-all.conf"), "Host *\n  Port 2022\n")
	writeFile(t, filepath.Join(ssh, "conf.d", ".hidden.conf"), "Host *\n  User hidden\n")
	writeFile(t, filepath.Join(ssh, "blocks"), "User from-block\nHost other\n  Port 1111\nMatch all\n  IdentityFile /keys/block-all\n")

	tests := []struct {
		name   string
		config string
		hosts  []string
	}{
		{
			name: "Host blocks",
			config: `# first obtained value wins
Host web1 web2
  HostName %h.example.com
  Port 2222
  IdentityFile /keys/web
Host web2
  User second-block
  Port 3333
  IdentityFile /keys/web2
Host *.internal !bad.internal
  User internal
  IdentityFile "/keys/with space"
Host db?
  User = db-user
  Port=5432
Host WEB3
  User upper
Host *
  User fallback
  IdentityFile /keys/common
  IdentityFile /keys/web
`,
			hosts: []string{"web1", "web2", "bob@web2", "x.internal", "bad.internal", "db1", "db", "db12", "WEB3", "web3", "Web3", "none"},
		},
		{
			name: "Match",
			config: `Host app mail
  HostName %h.example.com
Match host *.example.com,!mail.example.com
  User example
Match originalhost APP
  Port 2200
Match user root
  IdentityFile /keys/root
Match localuser ` + me.Username + `
  IdentityFile /keys/local
Match !host db* !localuser nobody-at-all
  Port 2300
Match host nothing-matches all
  User never
Host *
  User fallback
`,
			hosts: []string{"app", "mail", "root@app", "alice@app", "db1", "other"},
		},
		{
			name: "Match final",
			config: `Host short
  HostName long.example.net
Host long.example.net
  User from-long
  Port 2022
Match final host long.example.net
  IdentityFile /keys/final
Match canonical
  IdentityFile /keys/canonical
Match final
  HostName ignored.example
Host *
  IdentityFile /keys/common
`,
			hosts: []string{"short", "long.example.net", "other"},
		},
		{
			name: "Include",
			config: `Include conf.d/*.conf
Host db
  Include blocks
  IdentityFile /keys/db-after
Host *
  User fallback
  Port 22
`,
			hosts: []string{"web", "db", "other", "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(t.TempDir(), "config"), tt.config)
			sc, err := loadSSHConfig(&Config{SSHConfig: path})
			if err != nil {
				t.Fatal(err)
			}
			for _, host := range tt.hosts {
				want := sshG(t, sshBin, path, host)
				ep, err := resolve(sc, &Config{User: me.Username}, host)
				if err != nil {
					t.Errorf("%s: %v", host, err)
					continue
				}
				tok := tokens{alias: ep.alias, host: ep.hostName, port: ep.port, user: ep.user}
				var wantKeys []string
				for _, f := range want["identityfile"] {
					wantKeys = append(wantKeys, tok.expand(f))
				}
				if isDefaultIdentities(want["identityfile"]) {
					// ssh also lists id_xmss and id_dsa, which gotask does not read.
					wantKeys = wantKeys[:5]
				}
				// ssh lowercases the host name; DNS does not care.
				if !strings.EqualFold(ep.hostName, first(want["hostname"])) ||
					ep.user != first(want["user"]) ||
					strconv.Itoa(ep.port) != first(want["port"]) ||
					!slices.Equal(ep.identityFiles, wantKeys) {
					t.Errorf("%s: got %s@%s:%d %q\nssh -G says %s@%s:%s %q", host,
						ep.user, ep.hostName, ep.port, ep.identityFiles,
						first(want["user"]), first(want["hostname"]), first(want["port"]), wantKeys)
				}
			}
		})
	}
}

// sshG runs `ssh -G -F config host` and returns its settings by keyword.
func sshG(t *testing.T, sshBin, config, host string) map[string][]string {
	t.Helper()
	cmd := exec.Command(sshBin, "-G", "-F", config, host)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ssh -G -F %s %s: %v\n%s", config, host, err, stderr.Bytes())
	}
	settings := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		settings[k] = append(settings[k], v)
	}
	return settings
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func isDefaultIdentities(files []string) bool {
	return slices.Equal(files, []string{
		"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk", "~/.ssh/id_ed25519",
		"~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss", "~/.ssh/id_dsa",
	})
}
