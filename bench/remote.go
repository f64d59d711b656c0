package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// bigFileSize is the size of the file put and got over SFTP.
const bigFileSize = 200_000_000

// remoteBenchmarks measures gotask against OpenSSH on one host: a real
// sshd on a loopback port, reached through an ssh_config alias.
func remoteBenchmarks() []benchmark {
	return []benchmark{remoteCommands(), remotePut(), remoteGet(), remotePutUnchanged()}
}

// remoteCommands: 100 commands one after another, each a session on
// gotask's one connection, against ssh reusing a ControlMaster's.
func remoteCommands() benchmark {
	var d *sshdSetup // started by setup
	return benchmark{
		name:        "remote/100-commands-one-host",
		target:      "≤ 0.5x 100 `ssh` through a ControlMaster",
		ratioTarget: 0.5,
		runs:        7,
		setup: func(ctx context.Context, e *env) (err error) {
			if d, err = e.startSSHD(ctx); err != nil {
				return err
			}
			doc := "[tasks.hundred]\nrun = [" + strings.Repeat(`"true", `, 99) + `"true"]` + "\n\n" +
				"[tasks.where]\nrun = \"echo \\\"$SSH_CONNECTION\\\"\"\n"
			if err := e.writeTasks(doc); err != nil {
				return err
			}
			if err := checkRemote(ctx, e, d); err != nil {
				return err
			}
			// The master is up before the first timed run: the
			// baseline at its best.
			if _, err := e.time(ctx, "ssh", controlMaster(d, "h1", "true")...); err != nil {
				return fmt.Errorf("starting the ControlMaster: %w", err)
			}
			e.cleanup(func() {
				e.command(context.Background(), "ssh", "-F", d.config, "-o", "ControlPath="+d.path("cm"), "-O", "exit", "h1").Run()
			})
			return nil
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return e.time(ctx, e.gotask, "-f", "tasks.toml", "-F", d.config, "-H", "h1", "hundred")
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			loop := `i=0; while [ $i -lt 100 ]; do ssh "$@" || exit; i=$((i+1)); done`
			return e.time(ctx, "sh", append([]string{"-c", loop, "sh"}, controlMaster(d, "h1", "true")...)...)
		},
	}
}

// remotePut: a 200 MB file to a destination that is not there, against
// scp, which speaks SFTP too since OpenSSH 9.0.
func remotePut() benchmark {
	return remoteCopy("put", "remote/put.bin", "remote/scp.bin", func(e *env, dst string) []string {
		return []string{bigFile(e), "h1:" + dst}
	})
}

// remoteGet: a 200 MB file from the host to a local path that is not
// there, against scp.
func remoteGet() benchmark {
	return remoteCopy("get", "got.bin", "scp.bin", func(e *env, dst string) []string {
		return []string{"h1:" + bigFile(e), dst}
	})
}

// remoteCopy times gotask's task kind (put or get, as setupCopy writes
// it) against scp with the arguments scpArgs gives for dst. Each run is
// a real transfer: both destinations are removed first.
func remoteCopy(kind, gotaskDst, scpDst string, scpArgs func(e *env, dst string) []string) benchmark {
	var d *sshdSetup
	return benchmark{
		name:        "remote/" + kind + "-200MB",
		target:      "≤ 1x `scp` (SFTP) of the same file",
		ratioTarget: 1,
		runs:        5,
		setup: func(ctx context.Context, e *env) (err error) {
			if d, err = e.startSSHD(ctx); err != nil {
				return err
			}
			return setupCopy(ctx, e, d, kind)
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			if err := removeIfAny(e.path(gotaskDst)); err != nil {
				return sample{}, err
			}
			return e.time(ctx, e.gotask, "-f", "tasks.toml", "-F", d.config, "-H", "h1", kind)
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			dst := e.path(scpDst)
			if err := removeIfAny(dst); err != nil {
				return sample{}, err
			}
			return e.time(ctx, "scp", append([]string{"-q", "-F", d.config}, scpArgs(e, dst)...)...)
		},
	}
}

// remotePutUnchanged: a put whose destination already holds the same
// bytes, which gotask checks by SHA-256 and skips, against a full scp.
func remotePutUnchanged() benchmark {
	var d *sshdSetup
	return benchmark{
		name:        "remote/put-200MB-unchanged",
		target:      "≤ 1x `scp` (SFTP) of the same file (bonus: gotask skips an unchanged destination)",
		ratioTarget: 1,
		runs:        5,
		setup: func(ctx context.Context, e *env) (err error) {
			if d, err = e.startSSHD(ctx); err != nil {
				return err
			}
			if err := setupCopy(ctx, e, d, "put"); err != nil {
				return err
			}
			// remote/put.bin is in place: a put that rewrote it would
			// rename a new file (a new inode) over it.
			before, err := inode(e.path("remote/put.bin"))
			if err != nil {
				return err
			}
			if _, err := e.time(ctx, e.gotask, "-f", "tasks.toml", "-F", d.config, "-H", "h1", "put"); err != nil {
				return err
			}
			if after, err := inode(e.path("remote/put.bin")); err != nil || after != before {
				return fmt.Errorf("gotask rewrote an unchanged destination (inode %d, then %d; %v)", before, after, err)
			}
			return nil
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return e.time(ctx, e.gotask, "-f", "tasks.toml", "-F", d.config, "-H", "h1", "put")
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			return e.time(ctx, "scp", "-q", "-F", d.config, bigFile(e), "h1:"+e.path("remote/scp.bin"))
		},
	}
}

// controlMaster returns ssh's arguments to run command on host through
// a shared, persistent master connection in d's directory.
func controlMaster(d *sshdSetup, host, command string) []string {
	return []string{"-F", d.config, "-o", "ControlMaster=auto", "-o", "ControlPath=" + d.path("cm"), "-o", "ControlPersist=60", host, command}
}

// checkRemote checks, with e's task "where", that gotask runs on h1
// over SSH rather than here.
func checkRemote(ctx context.Context, e *env, d *sshdSetup) error {
	c := e.command(ctx, e.gotask, "-f", "tasks.toml", "-F", d.config, "-H", "h1", "where")
	var out bytes.Buffer
	c.Stdout = &out
	if _, err := timeCmd(c); err != nil {
		return err
	}
	if !strings.Contains(out.String(), "127.0.0.1") {
		return fmt.Errorf("gotask -H h1 did not run over SSH: SSH_CONNECTION is %q", out.String())
	}
	return nil
}

// setupCopy writes tasks put (the big file to remote/put.bin) and get
// (the big file, as the remote side, to got.bin), and checks once that
// task copies every byte.
func setupCopy(ctx context.Context, e *env, d *sshdSetup, task string) error {
	src, err := makeBigFile(e)
	if err != nil {
		return err
	}
	if err := os.Mkdir(e.path("remote"), 0o755); err != nil {
		return err
	}
	doc := fmt.Sprintf("[tasks.put]\nsteps = [{ put = %s, to = %s }]\n\n[tasks.get]\nsteps = [{ get = %s, to = %s }]\n",
		tomlString(src), tomlString(e.path("remote/put.bin")), tomlString(src), tomlString(e.path("got.bin")))
	if err := e.writeTasks(doc); err != nil {
		return err
	}
	if _, err := e.time(ctx, e.gotask, "-f", "tasks.toml", "-F", d.config, "-H", "h1", task); err != nil {
		return err
	}
	dst := e.path("remote/put.bin")
	if task == "get" {
		dst = e.path("got.bin")
	}
	return sameFile(src, dst)
}

// bigFile is the path of the random file that makeBigFile writes.
func bigFile(e *env) string {
	// In the run's directory, not the benchmark's: written once per run.
	return filepath.Join(filepath.Dir(e.dir), "random-200MB")
}

// makeBigFile writes bigFileSize random bytes to bigFile, once per run,
// and returns its path.
func makeBigFile(e *env) (string, error) {
	p := bigFile(e)
	if st, err := os.Stat(p); err == nil && st.Size() == bigFileSize {
		return p, nil
	}
	f, err := os.Create(p + ".tmp")
	if err != nil {
		return "", err
	}
	_, err = io.CopyN(f, rand.Reader, bigFileSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p+".tmp", p)
	}
	return p, err
}

// sameFile returns an error unless a and b hold the same bytes.
func sameFile(a, b string) error {
	fa, err := os.Open(a)
	if err != nil {
		return err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return err
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); ; {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return fmt.Errorf("%s differs from %s at or after byte %d", b, a, off)
		}
		off += int64(na)
		// Equal counts: both short (the end, or an error) or neither.
		for _, err := range []error{ea, eb} {
			if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
				return err
			}
		}
		if ea != nil {
			return nil
		}
	}
}

// path returns name inside e.dir.
func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

// inode returns the inode number of the file p.
func inode(p string) (uint64, error) {
	st, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("no inode for %s on %s", p, runtime.GOOS)
	}
	return sys.Ino, nil
}

// removeIfAny removes the file p if it exists.
func removeIfAny(p string) error {
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
