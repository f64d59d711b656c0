package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gotask/gotask/cli"
	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/task"
)

// TestAdHocPutGetOverSSH: gotask -H HOSTS --put PATH --to DEST and --get
// PATH --to DIR copy without a tasks.toml task, through a real sshd, with
// the summary and exit code of an ad-hoc command; --get from several
// hosts writes DIR/HOST/NAME; --mode sets the copies' permissions.
func TestAdHocPutGetOverSSH(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "h1", "h2")
	hostsOnly := writeTasks(t, "[hosts]\nweb = [\"h1\", \"h2\"]\n")
	src := filepath.Join(t.TempDir(), "app")
	content := []byte("#!/bin/sh\necho app {{.x}}\n")
	if err := os.WriteFile(src, content, 0o644); err != nil {
		t.Fatal(err)
	}
	// The hosts are this machine: "remote" paths are local ones.
	remote := t.TempDir()

	t.Run("put to several hosts", func(t *testing.T) {
		if err := os.Mkdir(filepath.Join(remote, "opt"), 0o755); err != nil {
			t.Fatal(err)
		}
		o := s.run(t, hostsOnly, "-H", "@web", "--put", src, "--to", remote+"/opt/", "--mode", "0750")
		if o.code != 0 || !strings.Contains(o.stderr+o.stdout, "2 of 2 hosts ok") {
			t.Fatalf("exit %d: want both hosts ok and a summary saying so", o.code)
		}
		got, err := os.ReadFile(filepath.Join(remote, "opt", "app"))
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("the copy holds %q (%v), want %q", got, err, content)
		}
		if fi, _ := os.Stat(filepath.Join(remote, "opt", "app")); fi.Mode().Perm() != 0o750 {
			t.Errorf("the copy has mode %v, want 0750 from --mode", fi.Mode().Perm())
		}
	})

	logs := filepath.Join(remote, "var", "log")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logs, "app.log"), []byte("line 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("get from several hosts, one directory each", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "logs")
		o := s.run(t, hostsOnly, "-H", "h1,h2", "--get", filepath.Join(logs, "app.log"), "--to", out+"/")
		if o.code != 0 || !strings.Contains(o.stderr+o.stdout, "2 of 2 hosts ok") {
			t.Fatalf("exit %d: want both hosts ok and a summary saying so", o.code)
		}
		for _, h := range []string{"h1", "h2"} {
			p := filepath.Join(out, h, "app.log")
			got, err := os.ReadFile(p)
			if err != nil || string(got) != "line 1\n" {
				t.Errorf("%s holds %q (%v), want the host's app.log", p, got, err)
			}
			if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s has mode %v: a 0600 file must not become readable by others", p, fi.Mode().Perm())
			}
		}
	})
	t.Run("get from one host, into --to", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "logs")
		o := s.run(t, hostsOnly, "-H", "h1", "--get", filepath.Join(logs, "app.log"), "--to", out+"/")
		if got, err := os.ReadFile(filepath.Join(out, "app.log")); o.code != 0 || string(got) != "line 1\n" {
			t.Fatalf("exit %d; %s/app.log holds %q (%v), want the host's app.log", o.code, out, got, err)
		}
	})
	t.Run("a failing copy fails like a command", func(t *testing.T) {
		tasks := writeTasks(t, "[tasks.fail]\nhosts = [\"h1\", \"h2\"]\nrun = \"exit 1\"\n")
		want := s.run(t, tasks, "fail").code
		o := s.run(t, hostsOnly, "-H", "h1,h2", "--get", filepath.Join(remote, "nothing-here"), "--to", t.TempDir()+"/")
		if o.code == 0 || o.code != want || !strings.Contains(o.stderr+o.stdout, "nothing-here") {
			t.Errorf("get of a missing file: exit %d, want %d as a failing task, naming the file", o.code, want)
		}
	})
	t.Run("a host name cannot write outside --to", func(t *testing.T) {
		// A group (an inventory, a dynamic one) may list any name that
		// could connect; as a directory under --to, "../x" escapes it.
		hostile := writeTasks(t, "[hosts]\nweb = [\"h1\", \"../escaped\"]\n")
		base := t.TempDir()
		out := filepath.Join(base, "logs")
		o := s.run(t, hostile, "-H", "@web", "--get", filepath.Join(logs, "app.log"), "--to", out+"/")
		if o.code != 2 || !strings.Contains(o.stderr, `host "../escaped" cannot name a directory`) {
			t.Errorf("exit %d, stderr %q: want a usage error naming the host", o.code, o.stderr)
		}
		if entries, _ := os.ReadDir(base); len(entries) > 0 {
			t.Errorf("wrote %v before refusing", entries)
		}
	})
}

// TestAdHocTransferRefused: --put and --get refuse what they cannot do,
// before anything runs, saying what to do instead.
func TestAdHocTransferRefused(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-H", "h1", "--put", "a", "--get", "b", "--to", "c"}, "--put and --get: one copy per run"},
		{[]string{"-H", "h1", "--put", "a", "--to", "c", "--", "uptime"}, "--put copies, and -- COMMAND runs a command: give one of them per run"},
		{[]string{"-H", "h1", "--get", "a", "--to", "c", "--", "uptime"}, "--get copies, and -- COMMAND runs a command"},
		{[]string{"-H", "h1", "--put", "a"}, "--put needs --to"},
		{[]string{"--put", "a", "--to", "b"}, "name them with -H"},
		{[]string{"-H", "h1", "--put", "a", "--to", "b", "build"}, `--put copies without a task; leave out "build"`},
		{[]string{"-H", "h1", "--put", "a", "--to", "b", "--mode", "4755"}, `--mode "4755": write octal permission bits from 0000 to 0777`},
		{[]string{"-H", "h1", "--put", "a", "--to", "b", "--mode", "rwx"}, `--mode "rwx"`},
		{[]string{"-H", "h1", "--to", "b", "--", "uptime"}, "--to and --mode go with --put or --get"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			dir := t.TempDir()
			t.Chdir(dir)
			code := cli.Main(t.Context(), tt.args, &cli.Streams{Out: &stdout, ErrOut: &stderr}, cli.WithRegistry(task.NewRegistry()))
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 saying %q", code, stderr.String(), tt.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("left %v behind", entries)
			}
		})
	}
}

// TestAdHocSudoPutOverSSH: --sudo with --put copies as root through
// sudo's password sources, into a directory the login user cannot write;
// without --sudo the same copy is refused.
func TestAdHocSudoPutOverSSH(t *testing.T) {
	sudoUser, password := os.Getenv(sudoUserEnv), os.Getenv(sudoPasswordEnv)
	if sudoUser == "" || password == "" {
		sshtest.MissingPeer(t, sudoUserEnv+" and "+sudoPasswordEnv+" are not set (.ci/run creates that user, whose sudo asks for its password, and sets them)")
	}
	if os.Geteuid() != 0 {
		sshtest.MissingPeer(t, "logging in to the test sshd as "+sudoUser+" needs the test to run as root")
	}
	s := newSSH(t, sshtest.SSHDOptions{AnyUser: true}, func(d *sshtest.SSHD) string {
		return fmt.Sprintf("Host s1\n  HostName 127.0.0.1\n  Port %d\n  User %s\n", d.Port, sudoUser)
	})
	hostsOnly := writeTasks(t, "[hosts]\nweb = [\"s1\"]\n")
	src := filepath.Join(t.TempDir(), "app.conf")
	if err := os.WriteFile(src, []byte("secret=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Root's own directory, closed to the login user.
	rootDir, err := os.MkdirTemp("", "gotask-rootonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rootDir) })
	dst := filepath.Join(rootDir, "app.conf")
	if o := s.run(t, hostsOnly, "-H", "s1", "--put", src, "--to", dst); o.code == 0 {
		t.Fatalf("without --sudo the login user wrote into a root-only directory")
	}
	t.Setenv("GOTASK_SUDO_PASSWORD", password)
	o := s.run(t, hostsOnly, "-H", "s1", "--sudo", "--put", src, "--to", dst, "--mode", "0600")
	if o.code != 0 {
		t.Fatalf("--sudo --put: exit %d", o.code)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "secret=1\n" || fi.Mode().Perm() != 0o600 {
		t.Errorf("the copy holds %q with mode %v, want the source with mode 0600", got, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
		t.Errorf("the copy is owned by uid %d, want root (copied through sudo)", st.Uid)
	}
	if strings.Contains(o.stdout+o.stderr, password) {
		t.Error("the sudo password shows in gotask's output")
	}
}
