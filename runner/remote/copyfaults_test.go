package remote

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// smallDisk mounts a tmpfs of 1 MiB and returns its path. Mounting needs
// root; CI runs the tests as root, so there a refusal fails the test.
func smallDisk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := "mounting a 1 MiB tmpfs to fill (needs root): " + strings.TrimSpace(string(out)) + ": " + err.Error()
		if os.Geteuid() == 0 && os.Getenv(sshtest.RequireRealPeersEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestRealPutDiskFull: a put onto a full disk says so, naming the host
// and the destination, instead of SFTP's bare "Failure", and leaves
// nothing behind.
func TestRealPutDiskFull(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	disk := smallDisk(t)
	src := filepath.Join(t.TempDir(), "big.bin")
	writeRandom(t, src, 3<<20)
	dst := filepath.Join(disk, "big.bin")
	_, err := c.Put(t.Context(), src, dst, nil)
	if err == nil {
		t.Fatal("a put of 3 MiB onto a 1 MiB disk succeeded")
	}
	want := "no space left on " + d.User + "@" + d.Addr + ":" + disk
	t.Logf("put: %v", err)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err %q, want it to say %q", err, want)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Error("the destination exists after the failed put")
	}
	assertNoTemp(t, disk)
}

// TestRealCopySymlinkedRoot: a get or put whose source is a symlink to a
// directory copies the directory it points to, as scp -r does, instead
// of copying nothing and reporting success.
func TestRealCopySymlinkedRoot(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	base := t.TempDir()
	tree := filepath.Join(base, "release-42")
	if err := os.MkdirAll(filepath.Join(tree, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"VERSION": "42\n", "bin/app": "#!/bin/sh\n"} {
		if err := os.WriteFile(filepath.Join(tree, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(base, "current")
	if err := os.Symlink("release-42", link); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(listTree(t, tree), "\n")

	t.Run("get", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "got")
		res, err := c.Get(t.Context(), link, dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(listTree(t, dst), "\n"); got != want || res.Files != 2 {
			t.Errorf("got %d files:\n%s\nwant 2:\n%s", res.Files, got, want)
		}
	})
	t.Run("put", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "put")
		res, err := c.Put(t.Context(), link, dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(listTree(t, dst), "\n"); got != want || res.Files != 2 {
			t.Errorf("put %d files:\n%s\nwant 2:\n%s", res.Files, got, want)
		}
	})
}
