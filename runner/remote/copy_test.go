package remote

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/shell"
	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// TestMain lets the test binary stand in for the host's openssl and
// sha256sum (see fakeHasher).
func TestMain(m *testing.M) {
	if tool := os.Getenv("GOTASK_TEST_HASHER"); tool != "" {
		os.Exit(fakeHasher(tool, os.Getenv("GOTASK_TEST_HASHER_MODE"), os.Getenv("GOTASK_TEST_HASHER_LOG"), os.Args[1:]))
	}
	if os.Getenv("GOTASK_TEST_PROXY") != "" {
		os.Exit(fakeProxy(os.Getenv("GOTASK_TEST_PROXY_PID"), os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeHasher plays tool, "openssl" or "sha256sum", invoked as
// hashCommand invokes it, and appends its name to the file log. mode
// "honest" hashes the file and prints the digest in the tool's format,
// "lie" prints a wrong digest, "fail" exits 1 like a tool that cannot
// read the file.
func fakeHasher(tool, mode, log string, args []string) int {
	if f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		fmt.Fprintln(f, tool)
		f.Close()
	}
	want := map[string][]string{"openssl": {"dgst", "-sha256", "-r", "--"}, "sha256sum": {"--"}}[tool]
	if len(args) != len(want)+1 || !slices.Equal(args[:len(want)], want) {
		fmt.Fprintf(os.Stderr, "%s: unexpected arguments %q\n", tool, args)
		return 2
	}
	name := args[len(want)]
	sum := strings.Repeat("ab", 32)
	switch mode {
	case "fail":
		fmt.Fprintf(os.Stderr, "%s: %s: Permission denied\n", tool, name)
		return 1
	case "honest":
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		sum = hex.EncodeToString(h.Sum(nil))
	}
	if tool == "openssl" {
		fmt.Printf("%s *%s\n", sum, name)
	} else {
		fmt.Printf("%s  %s\n", sum, name)
	}
	return 0
}

// fakeHashers writes a directory for the host's PATH holding openssl and
// sha256sum in the given modes (fakeHasher's, or "" for a host without
// that tool); the tools append their names to the returned log file.
func fakeHashers(t *testing.T, openssl, sha256sum string) (dir, log string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	log = filepath.Join(dir, "calls")
	for tool, mode := range map[string]string{"openssl": openssl, "sha256sum": sha256sum} {
		if mode == "" {
			continue
		}
		script := fmt.Sprintf("#!/bin/sh\nGOTASK_TEST_HASHER=%s GOTASK_TEST_HASHER_MODE=%s GOTASK_TEST_HASHER_LOG=%s exec %s \"$@\"\n",
			tool, mode, shell.Quote(log), shell.Quote(exe))
		if err := os.WriteFile(filepath.Join(dir, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, log
}

// TestCopyVerification runs Put and Get against the in-process server
// on hosts with both hashers, one of them, none (the file is read back
// over SFTP), and ones whose hasher lies: a lie must fail the transfer
// and leave the destination alone, whichever tool told it.
func TestCopyVerification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		openssl, sha256sum string   // fakeHasher modes; "" for no such tool
		wantCalls          []string // the tools run by the first put, in order
		wantErr            bool
	}{
		{name: "openssl and sha256sum", openssl: "honest", sha256sum: "honest", wantCalls: []string{"openssl"}},
		{name: "only openssl", openssl: "honest", wantCalls: []string{"openssl"}},
		{name: "only sha256sum", sha256sum: "honest", wantCalls: []string{"sha256sum"}},
		{name: "openssl fails", openssl: "fail", sha256sum: "honest", wantCalls: []string{"openssl", "sha256sum"}},
		{name: "no hasher"},
		{name: "both fail", openssl: "fail", sha256sum: "fail", wantCalls: []string{"openssl", "sha256sum"}},
		{name: "lying openssl", openssl: "lie", sha256sum: "honest", wantCalls: []string{"openssl"}, wantErr: true},
		{name: "lying sha256sum", sha256sum: "lie", wantCalls: []string{"sha256sum"}, wantErr: true},
		{name: "openssl fails, sha256sum lies", openssl: "fail", sha256sum: "lie", wantCalls: []string{"openssl", "sha256sum"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bin, calls := fakeHashers(t, tt.openssl, tt.sha256sum)
			srv := sshtest.Start(t, sshtest.Options{Handler: func(s *sshtest.Session) int {
				s.Env = append(s.Env, "PATH="+bin)
				return sshtest.Shell(s)
			}})
			c := dial(t, srv, nil)
			local := t.TempDir()
			src := filepath.Join(local, "app")
			content := bytes.Repeat([]byte("0123456789"), 100000)
			if err := os.WriteFile(src, content, 0o755); err != nil {
				t.Fatal(err)
			}
			remoteDst := filepath.Join(srv.Home, "app")
			old := bytes.Repeat([]byte("old "), 100000) // big enough to be hashed by the host
			if err := os.WriteFile(remoteDst, old, 0o644); err != nil {
				t.Fatal(err)
			}

			res, err := c.Put(t.Context(), src, "~/app", nil) // ~ is the server's Home
			got, _ := os.ReadFile(remoteDst)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), srv.Addr) {
					t.Errorf("put: err %v, want a SHA-256 mismatch naming the host", err)
				}
				if !bytes.Equal(got, old) {
					t.Errorf("a failed put replaced the destination")
				}
			} else {
				if err != nil || res.Files != 1 || res.Bytes != int64(len(content)) {
					t.Fatalf("put: %+v %v", res, err)
				}
				if !bytes.Equal(got, content) {
					t.Errorf("uploaded content differs")
				}
				if st, _ := os.Stat(remoteDst); st.Mode().Perm() != 0o755 {
					t.Errorf("mode %v, want the source's 0755", st.Mode().Perm())
				}
			}
			assertNoTemp(t, srv.Home)
			log, _ := os.ReadFile(calls)
			if got := strings.Fields(string(log)); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("the put ran %q on the host, want %q", got, tt.wantCalls)
			}

			back := filepath.Join(local, "back")
			if err := os.WriteFile(back, []byte("local old"), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err = c.Get(t.Context(), "app", back, &runner.CopyOptions{Mode: 0o600})
			got, _ = os.ReadFile(back)
			want, _ := os.ReadFile(remoteDst)
			if tt.wantErr {
				if err == nil || string(got) != "local old" {
					t.Errorf("get: err %v, destination %q; want an error and the old file", err, got)
				}
			} else {
				if err != nil || res.Files != 1 || !bytes.Equal(got, want) {
					t.Fatalf("get: %+v %v", res, err)
				}
				if st, _ := os.Stat(back); st.Mode().Perm() != 0o600 {
					t.Errorf("mode %v, want CopyOptions.Mode 0600", st.Mode().Perm())
				}
				res, err = c.Get(t.Context(), "app", back, &runner.CopyOptions{Mode: 0o600})
				if err != nil || res.Unchanged != 1 || res.Files != 0 {
					t.Errorf("second get: %+v %v, want unchanged", res, err)
				}
			}
			assertNoTemp(t, local)
		})
	}
}

// TestParseSHA256RealTools feeds parseSHA256 what this machine's openssl
// and sha256sum print for hashCommand's arguments, names that
// sha256sum escapes included, so that the fakes above cannot drift from
// the real formats. A tool this machine lacks is skipped.
func TestParseSHA256RealTools(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := []byte("some content\n")
	want := sha256.Sum256(content)
	for _, name := range []string{"plain", "with space", `back\slash`, "new\nline", "-dash"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"openssl", "dgst", "-sha256", "-r", "--", p}, {"sha256sum", "--", p}} {
			t.Run(args[0]+"/"+name, func(t *testing.T) {
				if _, err := exec.LookPath(args[0]); err != nil {
					t.Skipf("no %s here", args[0])
				}
				out, err := exec.Command(args[0], args[1:]...).Output()
				if err != nil {
					t.Fatalf("%q: %v", args, err)
				}
				sum, ok := parseSHA256(out)
				if !ok || !bytes.Equal(sum, want[:]) {
					t.Errorf("parseSHA256(%q) = %x, %v; want %x", out, sum, ok, want)
				}
			})
		}
	}
}

// TestHashCommandRunsInAShell checks that hashCommand quotes the path
// and falls back to sha256sum, with /bin/sh and a PATH of fakes.
func TestHashCommandRunsInAShell(t *testing.T) {
	t.Parallel()
	bin, calls := fakeHashers(t, "fail", "honest")
	p := filepath.Join(t.TempDir(), "it's a file")
	content := []byte("content")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", hashCommand(p))
	cmd.Env = append(os.Environ(), "PATH="+bin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", hashCommand(p), err)
	}
	want := sha256.Sum256(content)
	if sum, ok := parseSHA256(out); !ok || !bytes.Equal(sum, want[:]) {
		t.Errorf("output %q, want the SHA-256 of %q", out, p)
	}
	if log, _ := os.ReadFile(calls); string(log) != "openssl\nsha256sum\n" {
		t.Errorf("ran %q, want openssl then sha256sum", log)
	}
}
