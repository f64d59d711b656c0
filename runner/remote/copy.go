package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pkg/sftp"

	"github.com/gotask/gotask/internal/ctxio"
	"github.com/gotask/gotask/internal/shell"
	"github.com/gotask/gotask/runner"
)

// Put copies the local file or directory tree src to dst on the host over
// SFTP. See runner.Copier for the contract. Specific to this runner:
//
//   - dst may start with ~ or ~/ for the login user's home; a relative
//     dst is relative to the home as well. A file copied to an existing
//     directory, or to a dst ending in "/", lands inside it under its own
//     name. A tree is copied so that dst mirrors src; files at dst that
//     src lacks are left alone.
//   - Every file goes to a temporary name beside its destination, is
//     checked by size and SHA-256 (the host runs openssl, else
//     sha256sum; files under 256 KiB, and all files on a host with
//     neither, are read back over SFTP instead) and only then renamed
//     into place.
//   - A destination with the same SHA-256 is not rewritten, only its mode
//     corrected; it counts in CopyResult.Unchanged.
//   - Regular files (and symlinks to them) are copied; other kinds of
//     files in a tree are skipped.
func (c *Client) Put(ctx context.Context, src, dst string, opts *runner.CopyOptions) (*runner.CopyResult, error) {
	res := &runner.CopyResult{}
	st, err := os.Stat(src)
	if err != nil {
		return res, fmt.Errorf("put to %s: %w", c.name, err)
	}
	sc, done, err := c.sftp(ctx)
	if err != nil {
		return res, err
	}
	defer done()
	t := &transfer{c: c, sc: sc, res: res, opts: opts}
	target, err := t.remotePath(dst)
	if err != nil {
		return res, err
	}
	if !st.IsDir() {
		if strings.HasSuffix(dst, "/") {
			target = path.Join(target, filepath.Base(src))
		} else if rst, err := sc.Stat(target); err == nil && rst.IsDir() {
			target = path.Join(target, filepath.Base(src))
		}
		err = t.putFile(ctx, src, target, st)
		return res, t.wrap(ctx, err)
	}
	// A symlink to a directory is followed at the root, as scp -r does
	// (WalkDir would not enter it).
	root, err := filepath.EvalSymlinks(src)
	if err != nil {
		return res, fmt.Errorf("put to %s: %w", c.name, err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rp := path.Join(target, filepath.ToSlash(rel))
		info, err := os.Stat(p) // follows symlinks
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			// An existing directory keeps its mode; a new one gets the
			// source's.
			if rst, err := sc.Stat(rp); err == nil {
				if !rst.IsDir() {
					return fmt.Errorf("%s exists and is not a directory", rp)
				}
				return nil
			}
			return t.mkdirs(rp, info.Mode().Perm())
		case info.Mode().IsRegular():
			return t.putFile(ctx, p, rp, info)
		}
		return nil
	})
	return res, t.wrap(ctx, err)
}

// Get copies the file or directory tree src on the host to the local path
// dst over SFTP, with the same rules as Put in the other direction: a
// temporary file beside dst renamed into place after the size and SHA-256
// check, unchanged files skipped, ~ in src for the remote home.
func (c *Client) Get(ctx context.Context, src, dst string, opts *runner.CopyOptions) (*runner.CopyResult, error) {
	res := &runner.CopyResult{}
	sc, done, err := c.sftp(ctx)
	if err != nil {
		return res, err
	}
	defer done()
	t := &transfer{c: c, sc: sc, res: res, opts: opts}
	from, err := t.remotePath(src)
	if err != nil {
		return res, err
	}
	rst, err := sc.Stat(from)
	if err != nil {
		return res, fmt.Errorf("get from %s: %s: %w", c.name, from, err)
	}
	if !rst.IsDir() {
		target := dst
		if strings.HasSuffix(dst, string(filepath.Separator)) {
			target = filepath.Join(dst, path.Base(from))
		} else if lst, err := os.Stat(dst); err == nil && lst.IsDir() {
			target = filepath.Join(dst, path.Base(from))
		}
		return res, t.wrap(ctx, t.getFile(ctx, from, target, rst))
	}
	// A symlink to a directory is followed at the root, as scp -r does
	// (the walk would not enter it).
	root := from
	if lst, err := sc.Lstat(from); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		if root, err = sc.RealPath(from); err != nil {
			return res, fmt.Errorf("get from %s: resolving the symlink %s: %w", c.name, from, err)
		}
	}
	walker := sc.Walk(root)
	for walker.Step() {
		if err := walker.Err(); err != nil {
			return res, t.wrap(ctx, err)
		}
		if err := ctx.Err(); err != nil {
			return res, t.wrap(ctx, err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(walker.Path(), root), "/")
		lp := filepath.Join(dst, filepath.FromSlash(rel))
		info := walker.Stat()
		switch {
		case info.IsDir():
			// An existing directory keeps its mode; a new one gets the
			// source's (but stays writable by us).
			if lst, err := os.Stat(lp); err == nil {
				if !lst.IsDir() {
					return res, t.wrap(ctx, fmt.Errorf("%s exists and is not a directory", lp))
				}
				continue
			}
			if err := os.MkdirAll(lp, 0o700); err != nil {
				return res, t.wrap(ctx, err)
			}
			if err := os.Chmod(lp, info.Mode().Perm()|0o700); err != nil {
				return res, t.wrap(ctx, err)
			}
		case info.Mode().IsRegular():
			if err := t.getFile(ctx, walker.Path(), lp, info); err != nil {
				return res, t.wrap(ctx, err)
			}
		}
	}
	return res, nil
}

// transfer is one Put or Get.
type transfer struct {
	c    *Client
	sc   *sftp.Client
	res  *runner.CopyResult
	opts *runner.CopyOptions
	home string

	cleaned map[string]bool // directories rid of stale temporary files
}

// removeStale removes, once per transfer and directory, the temporary
// files that killed transfers left in dir (see staleTemp): on this
// machine when local, else on the host. It is best effort: a directory
// that cannot be listed, or a file that cannot be removed, is left.
func (t *transfer) removeStale(dir string, local bool) {
	if t.cleaned[dir] {
		return
	}
	if t.cleaned == nil {
		t.cleaned = map[string]bool{}
	}
	t.cleaned[dir] = true
	if !local {
		entries, err := t.sc.ReadDir(dir)
		if err != nil {
			return
		}
		for _, name := range staleTemps(entries) {
			_ = t.sc.Remove(path.Join(dir, name))
		}
		return
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var entries []fs.FileInfo
	for _, de := range des {
		if fi, err := de.Info(); err == nil && strings.Contains(de.Name(), tempMarker) {
			entries = append(entries, fi)
		}
	}
	for _, name := range staleTemps(entries) {
		_ = os.Remove(filepath.Join(dir, name))
	}
}

func (t *transfer) mode(src fs.FileMode) fs.FileMode {
	if t.opts != nil && t.opts.Mode != 0 {
		return t.opts.Mode.Perm()
	}
	return src.Perm()
}

func (t *transfer) wrap(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("copying on %s: %w", t.c.name, context.Cause(ctx))
	}
	return fmt.Errorf("copying on %s: %w", t.c.name, err)
}

// remotePath makes p absolute: ~ and ~/x are the login user's home, as
// are relative paths (where the SFTP server starts).
func (t *transfer) remotePath(p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p), nil
	}
	if t.home == "" {
		home, err := t.sc.Getwd()
		if err != nil {
			return "", fmt.Errorf("finding the home directory on %s: %w", t.c.name, err)
		}
		t.home = home
	}
	switch {
	case p == "~" || p == "":
		return t.home, nil
	case strings.HasPrefix(p, "~/"):
		return path.Join(t.home, p[2:]), nil
	}
	return path.Join(t.home, p), nil
}

// mkdirs makes the directory p on the host, with any missing parents.
// Each is created private (see filter), so that nothing is put in it
// before it has its mode: perm for p, 0755 for a parent, as mkdir -p
// makes them under the usual umask.
func (t *transfer) mkdirs(p string, perm fs.FileMode) error {
	if fi, err := t.sc.Stat(p); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", p)
		}
		return nil
	}
	if parent := path.Dir(p); parent != p {
		if err := t.mkdirs(parent, 0o755); err != nil {
			return err
		}
	}
	if err := t.sc.Mkdir(p); err != nil {
		if fi, serr := t.sc.Stat(p); serr == nil && fi.IsDir() {
			return nil // made meanwhile, by someone else
		}
		return fmt.Errorf("creating directory %s: %w", p, err)
	}
	return t.sc.Chmod(p, perm)
}

// putFile uploads one file unless dst already has its content.
func (t *transfer) putFile(ctx context.Context, src, dst string, st fs.FileInfo) error {
	mode := t.mode(st.Mode())
	if rst, err := t.sc.Stat(dst); err == nil {
		if rst.IsDir() {
			return fmt.Errorf("%s is a directory; put the file inside it with a trailing /", dst)
		}
		if rst.Mode().IsRegular() && rst.Size() == st.Size() {
			// Both sides hash at once.
			remote := make(chan sum, 1)
			go func() {
				b, err := t.c.remoteSHA256(ctx, t.sc, dst, rst.Size())
				remote <- sum{b, err}
			}()
			local, err := fileSHA256(src)
			r := <-remote
			if err != nil {
				return err
			}
			if r.err != nil {
				return r.err
			}
			if bytes.Equal(local, r.b) {
				t.res.Unchanged++
				if rst.Mode().Perm() != mode {
					return t.sc.Chmod(dst, mode)
				}
				return nil
			}
		}
	}

	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	t.removeStale(path.Dir(dst), false)
	tmp := path.Join(path.Dir(dst), tempName(path.Base(dst)))
	w, err := t.sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	ok := false
	defer func() {
		if !ok {
			w.Close()
			t.sc.Remove(tmp)
		}
	}()
	h := sha256.New()
	n, err := w.ReadFromWithConcurrency(ctxio.Reader{Ctx: ctx, R: io.TeeReader(f, h)}, 0)
	if err != nil {
		return t.writeError(tmp, dst, st.Size(), err)
	}
	if err := w.Chmod(mode); err != nil {
		return fmt.Errorf("setting the mode of %s: %w", tmp, err)
	}
	if err := w.Close(); err != nil {
		return t.writeError(tmp, dst, st.Size(), err)
	}
	rst, err := t.sc.Stat(tmp)
	if err != nil {
		return err
	}
	if rst.Size() != n || n != st.Size() {
		return fmt.Errorf("%s has %d bytes after the transfer, %s had %d: the file changed or the transfer broke; try again", dst, rst.Size(), src, n)
	}
	remote, err := t.c.remoteSHA256(ctx, t.sc, tmp, n)
	if err != nil {
		return err
	}
	if !bytes.Equal(remote, h.Sum(nil)) {
		return fmt.Errorf("SHA-256 of %s on the host differs from %s after the transfer; try again", dst, src)
	}
	if err := t.sc.PosixRename(tmp, dst); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp, dst, err)
	}
	ok = true
	t.res.Files++
	t.res.Bytes += n
	return nil
}

// writeError explains a failed write of size bytes to tmp, the temporary
// file of dst. SFTP has no code for a full disk: the server answers a
// bare SSH_FX_FAILURE, so on that answer the file system's free space
// and inodes are asked for (statvfs@openssh.com), and a full disk is
// named as such.
func (t *transfer) writeError(tmp, dst string, size int64, err error) error {
	var status *sftp.StatusError
	if errors.As(err, &status) && status.FxCode() == sftp.ErrSSHFxFailure {
		dir := path.Dir(dst)
		if vfs, verr := t.sc.StatVFS(dir); verr == nil {
			switch free := vfs.Frsize * vfs.Bavail; {
			case free < uint64(size):
				return fmt.Errorf("no space left on %s:%s (%d bytes free, %s has %d): free some space there, or put the file elsewhere: %w",
					t.c.name, dir, free, path.Base(dst), size, err)
			case vfs.Files > 0 && vfs.Favail == 0:
				return fmt.Errorf("no free inodes left on %s:%s: remove some files there, or put the file elsewhere: %w", t.c.name, dir, err)
			}
		}
	}
	return fmt.Errorf("writing %s: %w", tmp, err)
}

// getFile downloads one file unless dst already has its content. The
// host hashes the file while it streams.
func (t *transfer) getFile(ctx context.Context, src, dst string, rst fs.FileInfo) error {
	mode := t.mode(rst.Mode())
	// The hasher on the host is stopped, and waited for, on every way
	// out: nothing of a failed or cancelled get keeps running there.
	hashCtx, stopHash := context.WithCancel(ctx)
	var hashing sync.WaitGroup
	defer hashing.Wait()
	defer stopHash()
	remoteSum := make(chan sum, 1)
	hashing.Add(1)
	go func() {
		defer hashing.Done()
		b, err := t.c.remoteSHA256(hashCtx, t.sc, src, rst.Size())
		remoteSum <- sum{b, err}
	}()

	if lst, err := os.Stat(dst); err == nil {
		if lst.IsDir() {
			return fmt.Errorf("%s is a directory; get the file into it with a trailing %c", dst, filepath.Separator)
		}
		if lst.Mode().IsRegular() && lst.Size() == rst.Size() {
			local, err := fileSHA256(dst)
			if err != nil {
				return err
			}
			r := <-remoteSum
			if r.err != nil {
				return r.err
			}
			if bytes.Equal(local, r.b) {
				t.res.Unchanged++
				if lst.Mode().Perm() != mode {
					return os.Chmod(dst, mode)
				}
				return nil
			}
			remoteSum <- r
		}
	}

	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := t.sc.Open(src)
	if err != nil {
		return fmt.Errorf("opening %s: %w", src, err)
	}
	defer r.Close()
	t.removeStale(filepath.Dir(dst), true)
	tmp, err := os.OpenFile(filepath.Join(filepath.Dir(dst), tempName(filepath.Base(dst))), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := r.WriteTo(ctxio.Writer{Ctx: ctx, W: io.MultiWriter(tmp, h)}) // ends the transfer when ctx is done; the SFTP session stays open to remove the temporary file
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	// No fsync, as scp does none: the file is verified by size and
	// SHA-256 and renamed into place whole.
	if err := tmp.Close(); err != nil {
		return err
	}
	if n != rst.Size() {
		return fmt.Errorf("got %d bytes of %s, which has %d: the file changed or the transfer broke; try again", n, src, rst.Size())
	}
	sr := <-remoteSum
	if sr.err != nil {
		return sr.err
	}
	if !bytes.Equal(sr.b, h.Sum(nil)) {
		return fmt.Errorf("SHA-256 of %s differs from the host's copy after the transfer; try again", dst)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	ok = true
	t.res.Files++
	t.res.Bytes += n
	return nil
}

// sum is a SHA-256 computed in another goroutine.
type sum struct {
	b   []byte
	err error
}

func fileSHA256(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// readBackBelow is the size under which a file is hashed by reading it
// over the open SFTP session: cheaper than starting a hasher in a new
// session.
const readBackBelow = 256 << 10

// hashCommand is the shell command that prints the SHA-256 of the file
// p on the host. openssl is tried first: it uses the CPU's SHA
// instructions, where sha256sum (coreutils) is about four times slower,
// and the host's hashing is what a put waits for after the transfer.
// Both print the digest first: openssl -r as "hex *name", sha256sum as
// "hex  name".
func hashCommand(p string) string {
	q := shell.Quote(p)
	return "openssl dgst -sha256 -r -- " + q + " 2>/dev/null || sha256sum -- " + q
}

// remoteSHA256 hashes a file of the given size on the host with
// hashCommand, or, for small files and on hosts without a hasher, by
// reading it over SFTP.
func (c *Client) remoteSHA256(ctx context.Context, sc *sftp.Client, p string, size int64) ([]byte, error) {
	if size >= readBackBelow && !c.noHasher.Load() {
		res, err := c.Run(ctx, &runner.Cmd{
			Command: hashCommand(p),
			Pty:     runner.PtyOff,
			Capture: 4096,
		})
		var ee *runner.ExitError
		switch {
		case err == nil:
			if sum, ok := parseSHA256(res.Stdout); ok {
				return sum, nil
			}
			c.noHasher.Store(true)
		case errors.As(err, &ee) && !ee.TimedOut && ee.Signal == "":
			if ee.Code == 127 {
				c.noHasher.Store(true)
			}
			// Otherwise (say, a file only SFTP may read): fall through.
		default:
			return nil, fmt.Errorf("hashing %s: %w", p, err)
		}
	}
	f, err := sc.Open(p)
	if err != nil {
		return nil, fmt.Errorf("hashing %s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := f.WriteTo(h); err != nil {
		return nil, fmt.Errorf("hashing %s: %w", p, err)
	}
	return h.Sum(nil), nil
}

// parseSHA256 reads the output of hashCommand: 64 hex digits, possibly
// after a backslash with which sha256sum marks an escaped file name.
func parseSHA256(out []byte) ([]byte, bool) {
	out = bytes.TrimPrefix(out, []byte(`\`))
	if len(out) < 64 {
		return nil, false
	}
	sum, err := hex.DecodeString(string(out[:64]))
	return sum, err == nil
}
