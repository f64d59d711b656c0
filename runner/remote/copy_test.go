package remote

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// TestCopyVerification runs Put and Get against the in-process server
// with sha256sum working, missing (the file is read back over SFTP) or
// lying (the transfer must fail and leave the destination alone).
func TestCopyVerification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sha     func(s *sshtest.Session) int
		wantErr bool
	}{
		{name: "sha256sum", sha: sshtest.Shell},
		{name: "no sha256sum", sha: func(s *sshtest.Session) int { return 127 }},
		{name: "sha256sum fails", sha: func(s *sshtest.Session) int { return 1 }},
		{name: "lying sha256sum", wantErr: true, sha: func(s *sshtest.Session) int {
			s.Stdout.Write([]byte(strings.Repeat("ab", 32) + "  file\n"))
			return 0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := sshtest.Start(t, sshtest.Options{Handler: func(s *sshtest.Session) int {
				if strings.HasPrefix(s.Command, "sha256sum ") {
					return tt.sha(s)
				}
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
			old := bytes.Repeat([]byte("old "), 100000) // big enough to be hashed by sha256sum
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
