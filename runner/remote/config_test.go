package remote

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestResolveSSHConfig(t *testing.T) {
	dir := t.TempDir()
	inc := writeFile(t, filepath.Join(dir, "conf.d", "extra.conf"), `
Host included
  HostName 192.0.2.7
  User incuser
`)
	cfgFile := writeFile(t, filepath.Join(dir, "config"), `
Include `+filepath.Join(dir, "conf.d", "*.conf")+`

Host web1
  HostName 10.0.0.1
  User deploy
  Port 2222
  IdentityFile `+dir+`/id_%r_%h_%p
  IdentitiesOnly yes
  UserKnownHostsFile `+dir+`/kh1 `+dir+`/kh2
  StrictHostKeyChecking accept-new
  ConnectTimeout 7
  ServerAliveInterval 9
  ServerAliveCountMax 5

Host *.internal !bad.internal
  ProxyJump jumpuser@bastion:2200,hop2
  User internal

Host bastion
  HostName bastion.example
  ProxyJump outer

Host alias-%h
  HostName %h.example

Match exec "test -f /nonexistent"
  User matched-exec

Match host mh1,mh2
  Port 2022

Host *
  User fallback
  IdentityFile ~/.ssh/common
`)
	_ = inc
	sc, err := loadSSHConfig(&Config{SSHConfig: cfgFile})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("web1", func(t *testing.T) {
		ep, err := resolve(sc, &Config{}, "web1")
		if err != nil {
			t.Fatal(err)
		}
		if ep.hostName != "10.0.0.1" || ep.port != 2222 || ep.user != "deploy" {
			t.Errorf("got %s@%s:%d", ep.user, ep.hostName, ep.port)
		}
		if want := dir + "/id_deploy_10.0.0.1_2222"; len(ep.identityFiles) < 1 || ep.identityFiles[0] != want {
			t.Errorf("identity files %v, want first %s", ep.identityFiles, want)
		}
		if len(ep.identityFiles) != 2 || !strings.HasSuffix(ep.identityFiles[1], "/.ssh/common") {
			t.Errorf("identity files %v: want the Host * one accumulated after", ep.identityFiles)
		}
		if !ep.identitiesOnly || !ep.acceptNew {
			t.Errorf("identitiesOnly=%v acceptNew=%v", ep.identitiesOnly, ep.acceptNew)
		}
		if len(ep.knownHosts) != 2 || ep.knownHosts[0] != dir+"/kh1" {
			t.Errorf("known hosts %v", ep.knownHosts)
		}
		if ep.connectTimeout != 7*time.Second || ep.keepalive != 9*time.Second || ep.keepaliveMax != 5 {
			t.Errorf("timeouts %v %v %d", ep.connectTimeout, ep.keepalive, ep.keepaliveMax)
		}
	})

	t.Run("host string beats ssh_config; Config beats defaults", func(t *testing.T) {
		ep, err := resolve(sc, &Config{ConnectTimeout: time.Second, KeepaliveInterval: -1, IdentityFiles: []string{"/k"}}, "root@web1:22")
		if err != nil {
			t.Fatal(err)
		}
		if ep.user != "root" || ep.port != 22 || ep.connectTimeout != time.Second || ep.keepalive >= 0 {
			t.Errorf("got %s:%d timeout %v keepalive %v", ep.user, ep.port, ep.connectTimeout, ep.keepalive)
		}
		if ep.identityFiles[0] != "/k" || !ep.explicitKeys["/k"] {
			t.Errorf("explicit identity file not first: %v", ep.identityFiles)
		}
	})

	t.Run("multi-hop ProxyJump", func(t *testing.T) {
		ep, err := resolve(sc, &Config{}, "db.internal")
		if err != nil {
			t.Fatal(err)
		}
		var hops []string
		for _, j := range ep.jumps {
			hops = append(hops, j.user+"@"+j.hostName+":"+strconv.Itoa(j.port))
		}
		// bastion is reached through its own ProxyJump (outer), then hop2.
		want := "fallback@outer:22 jumpuser@bastion.example:2200 fallback@hop2:22"
		if got := strings.Join(hops, " "); got != want {
			t.Errorf("hops %q, want %q", got, want)
		}
		if ep.user != "internal" {
			t.Errorf("user %q", ep.user)
		}
	})

	t.Run("negated pattern", func(t *testing.T) {
		ep, err := resolve(sc, &Config{}, "bad.internal")
		if err != nil {
			t.Fatal(err)
		}
		if len(ep.jumps) != 0 || ep.user != "fallback" {
			t.Errorf("bad.internal got jumps %d user %q", len(ep.jumps), ep.user)
		}
	})

	t.Run("Include", func(t *testing.T) {
		ep, err := resolve(sc, &Config{}, "included")
		if err != nil {
			t.Fatal(err)
		}
		if ep.hostName != "192.0.2.7" || ep.user != "incuser" {
			t.Errorf("got %s@%s", ep.user, ep.hostName)
		}
	})

	t.Run("Match exec never matches, Match host does", func(t *testing.T) {
		ep, err := resolve(sc, &Config{}, "mh2")
		if err != nil {
			t.Fatal(err)
		}
		if ep.user == "matched-exec" || ep.port != 2022 {
			t.Errorf("got user %q port %d", ep.user, ep.port)
		}
	})

	t.Run("unknown host gets defaults", func(t *testing.T) {
		ep, err := resolve(sc, &Config{}, "[::1]")
		if err != nil {
			t.Fatal(err)
		}
		if ep.addr() != "[::1]:22" || ep.connectTimeout != DefaultConnectTimeout || ep.keepalive != DefaultKeepaliveInterval || ep.keepaliveMax != DefaultKeepaliveMax {
			t.Errorf("got %s %v %v %d", ep.addr(), ep.connectTimeout, ep.keepalive, ep.keepaliveMax)
		}
		if ep.acceptNew {
			t.Error("accept-new without asking")
		}
	})
}

func TestSSHConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		host    string
		want    []string
	}{
		{
			name:    "bad Include names file and line",
			content: "Host ok\n  User x\n\n  Include /nonexistent/[\n",
			want:    []string{"config:4:", "(fix the file)"},
		},
		{
			name:    "bad port",
			content: "Host p\n  Port ssh\n",
			host:    "p",
			want:    []string{"Port", "not a number"},
		},
		{
			name:    "bad ConnectTimeout",
			content: "Host p\n  ConnectTimeout soon\n",
			host:    "p",
			want:    []string{"config:2:", `ConnectTimeout "soon" for p is not a number of seconds`},
		},
		{
			name:    "negative ServerAliveInterval",
			content: "Host p\n  User x\n  ServerAliveInterval -3\n",
			host:    "p",
			want:    []string{"config:3:", `ServerAliveInterval "-3" for p is not a number of seconds`},
		},
		{
			name:    "zero ServerAliveCountMax",
			content: "Host p\n  ServerAliveCountMax 0\n",
			host:    "p",
			want:    []string{"config:2:", `ServerAliveCountMax "0" for p is not a positive number`},
		},
		{
			name:    "bad ProxyJump",
			content: "Host p\n  ProxyJump a,,b\n",
			host:    "p",
			want:    []string{"ProxyJump", "hop 2"},
		},
		{
			name:    "ProxyJump loop",
			content: "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n",
			host:    "a",
			want:    []string{"ProxyJump loop a -> b -> a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"), "config"), tt.content)
			sc, err := loadSSHConfig(&Config{SSHConfig: path})
			if err == nil {
				_, err = resolve(sc, &Config{}, tt.host)
			}
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	t.Run("missing explicit file", func(t *testing.T) {
		if _, err := loadSSHConfig(&Config{SSHConfig: filepath.Join(dir, "nope")}); err == nil {
			t.Fatal("no error for a missing -F file")
		}
	})
	t.Run("none reads nothing", func(t *testing.T) {
		sc, err := loadSSHConfig(&Config{SSHConfig: "none"})
		if err != nil || sc.Where() != "ssh config" {
			t.Fatalf("%v %v", sc, err)
		}
	})
}
