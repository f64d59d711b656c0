package remote

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/runner"
)

// TestRealPutPrivateFromFirstByte: while a mode 0600 file is being
// uploaded to a real sshd, its temporary file is never readable by other
// users. The source is a FIFO, so the test holds the transfer open with
// some bytes written and looks at the temporary file on the host (this
// machine) mid-transfer.
func TestRealPutPrivateFromFirstByte(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	remote := t.TempDir()
	if err := os.Chmod(remote, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "secret.key")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Put(ctx, fifo, filepath.Join(remote, "secret.key"), &runner.CopyOptions{Mode: 0o600})
		done <- err
	}()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // returns once Put opened it
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// More than a packet, so that some of it is sent; the rest waits in
	// the pipe until the test is done looking.
	go w.Write(make([]byte, 2<<20))
	// Wait for the first bytes to land in the temporary file.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	hang := time.After(time.Minute) // a hang guard only
	var tmp fs.FileInfo
	for tmp == nil {
		select {
		case err := <-done:
			t.Fatalf("Put ended before the test looked: %v", err)
		case <-hang:
			t.Fatal("no temporary file with data appeared")
		case <-tick.C:
		}
		entries, _ := os.ReadDir(remote)
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && strings.Contains(e.Name(), ".gotask-") && fi.Size() > 0 {
				tmp = fi
			}
		}
	}
	if perm := tmp.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("mid-transfer, temporary file %s has mode %o: readable by others", tmp.Name(), perm)
	}
	cancel()
	w.Close()
	<-done
	assertNoTemp(t, remote)
}

// TestRealCreatedPrivate: through gotask's SFTP session, a real sshd
// creates files 0600 and directories 0700, whatever its umask (the
// test's, here 022 as a rule): Put and Get then set the final mode.
func TestRealCreatedPrivate(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	sc, done, err := c.sftp(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	dir := t.TempDir()
	if err := sc.Mkdir(filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	f, err := sc.OpenFile(filepath.Join(dir, "f"), os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	for name, want := range map[string]fs.FileMode{"d": 0o700, "f": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s created with mode %o, want %o", name, fi.Mode().Perm(), want)
		}
	}
}

// TestRealPutTreeModes: a tree put into missing parents gives each
// directory its source's mode, and the parents 0755.
func TestRealPutTreeModes(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	src := t.TempDir()
	if err := os.Mkdir(filepath.Join(src, "private"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "private", "key"), []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(src, 0o750); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "a", "b", "tree")
	if _, err := c.Put(t.Context(), src, dst, nil); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{
		filepath.Dir(filepath.Dir(dst)):      0o755,
		filepath.Dir(dst):                    0o755,
		dst:                                  0o750,
		filepath.Join(dst, "private"):        0o700,
		filepath.Join(dst, "private", "key"): 0o600,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %o, want %o", p, fi.Mode().Perm(), want)
		}
	}
}

// TestRealStaleTempRemoved: temporary files that killed transfers left
// beside a destination are removed by the next put or get into that
// directory; those of transfers still running, here or (as far as can be
// told) on another machine, are left alone.
func TestRealStaleTempRemoved(t *testing.T) {
	t.Parallel()
	d := sshtest.StartSSHD(t)
	c := dialReal(t, d, nil)
	src := filepath.Join(t.TempDir(), "app.conf")
	if err := os.WriteFile(src, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A process that has ended stands for a killed gotask; one that
	// runs, for a gotask still transferring.
	ended := exec.Command("true")
	if err := ended.Run(); err != nil {
		t.Fatal(err)
	}
	running := exec.Command("sleep", "600")
	if err := running.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { running.Process.Kill(); running.Wait() })
	here := machineTag()
	old := time.Now().Add(-2 * staleAge)
	for _, tc := range []struct {
		name string
		copy func(dst string) error
	}{
		{"put", func(dst string) error { _, err := c.Put(t.Context(), src, dst, nil); return err }},
		{"get", func(dst string) error { _, err := c.Get(t.Context(), src, dst, nil); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			base := "app.conf"
			files := []struct {
				name    string
				mtime   time.Time
				removed bool
			}{
				{tempNameFor(base, here, ended.Process.Pid), time.Now(), true},
				{tempNameFor("other.conf", here, ended.Process.Pid), time.Now(), true},
				{tempNameFor(base, here, running.Process.Pid), time.Now(), false},
				{tempNameFor(base, here, os.Getpid()), time.Now(), false},
				{tempNameFor(base, "0badc0de", ended.Process.Pid), time.Now(), false},
				{tempNameFor(base, "0badc0de", ended.Process.Pid), old, true},
				{".app.conf.gotask-0123456789ab.tmp", time.Now(), false}, // an older gotask's
				{".app.conf.gotask-0123456789ac.tmp", old, true},
				{"app.conf.tmp", old, false}, // not gotask's
			}
			for _, f := range files {
				p := filepath.Join(dir, f.name)
				if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.copy(filepath.Join(dir, base)); err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				_, err := os.Stat(filepath.Join(dir, f.name))
				if gone := err != nil; gone != f.removed {
					t.Errorf("%s: removed %v, want %v", f.name, gone, f.removed)
				}
			}
		})
	}
}
