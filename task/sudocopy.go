package task

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gotask/gotask/internal/shell"
	"github.com/gotask/gotask/runner"
)

// A put or get step with sudo copies one file as the sudo user, through
// a sudo command on the host rather than SFTP (which runs as the login
// user): the file's bytes go through the command's stdin (put) or
// stdout (get), after sudo's password, answered as for any sudo command.
// The host checks size and SHA-256 before a put's temporary file is
// renamed into place; a get is checked here against the size and
// SHA-256 the host reports. The file is written by the sudo user, so it
// belongs to them.

// sudoCopy is copy for a step with sudo as user.
func (s *scope) sudoCopy(ctx context.Context, put bool, src, dst string, mode fs.FileMode, user string) (*runner.CopyResult, error) {
	var res *runner.CopyResult
	var err error
	if put {
		res, err = s.sudoPut(ctx, src, dst, mode, user)
	} else {
		res, err = s.sudoGet(ctx, src, dst, mode, user)
	}
	if err != nil {
		return res, &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	return res, nil
}

// homeRelative turns a remote path starting with ~ into one relative to
// the login user's home, where commands start (sudo keeps the working
// directory; its ~ would be the sudo user's).
func homeRelative(p string) string {
	switch {
	case p == "~":
		return "."
	case strings.HasPrefix(p, "~/"):
		if rest := strings.TrimLeft(p[2:], "/"); rest != "" {
			return rest
		}
		return "."
	}
	return p
}

// sudoPut uploads the file src to dst on the host as user.
func (s *scope) sudoPut(ctx context.Context, src, dst string, mode fs.FileMode, user string) (*runner.CopyResult, error) {
	res := &runner.CopyResult{}
	f, err := os.Open(src)
	if err != nil {
		return res, fmt.Errorf("put: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("put: %w", err)
	}
	if !st.Mode().IsRegular() {
		return res, fmt.Errorf("put with sudo copies single files, and %s is not one: put it as the login user, then move it with a sudo run step", src)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return res, fmt.Errorf("put: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, fmt.Errorf("put: %w", err)
	}
	if mode == 0 {
		mode = st.Mode().Perm()
	}
	q := shell.Quote
	base := filepath.Base(src)
	// mktemp makes the temporary file private (0600) from the start; the
	// host checks what arrived before anything is renamed into place.
	script := fmt.Sprintf(`set -e
dst=%s
case $dst in */) dst=${dst}%s ;; esac
if [ -d "$dst" ]; then dst=${dst%%/}/%s; fi
t=$(mktemp "$(dirname -- "$dst")/.gotask-sudo.XXXXXX")
trap 'rm -f -- "$t"' EXIT
head -c %d > "$t"
n=$(wc -c < "$t")
if [ "$n" -ne %d ]; then echo "gotask: $dst: $n bytes arrived of %d; try again" >&2; exit 1; fi
sum=$(openssl dgst -sha256 -r "$t" 2>/dev/null || sha256sum "$t")
case $sum in %s*) ;; *) echo "gotask: $dst: SHA-256 differs after the transfer; try again" >&2; exit 1 ;; esac
chmod %o "$t"
mv -f -- "$t" "$dst"
trap - EXIT`, q(homeRelative(dst)), q(base), q(base), st.Size(), st.Size(), st.Size(), hex.EncodeToString(h.Sum(nil)), mode.Perm())
	var stderr bytes.Buffer
	if err := s.sudoRun(ctx, script, user, f, io.Discard, &stderr); err != nil {
		return res, sudoCopyError("put", src, dst, err, &stderr)
	}
	res.Files, res.Bytes = 1, st.Size()
	return res, nil
}

// sudoGet downloads the file src on the host to dst here, reading it as
// user.
func (s *scope) sudoGet(ctx context.Context, src, dst string, mode fs.FileMode, user string) (*runner.CopyResult, error) {
	res := &runner.CopyResult{}
	if strings.HasSuffix(dst, string(filepath.Separator)) {
		dst = filepath.Join(dst, path.Base(src))
	} else if st, err := os.Stat(dst); err == nil && st.IsDir() {
		dst = filepath.Join(dst, path.Base(src))
	}
	if mode == 0 {
		mode = 0o600 // a file only the sudo user could read stays private
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return res, fmt.Errorf("get: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".gotask-sudo-*")
	if err != nil {
		return res, fmt.Errorf("get: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// The size and SHA-256 follow the file's bytes on stderr, after the
	// file has been read.
	script := fmt.Sprintf(`set -e
f=%s
if [ ! -f "$f" ]; then echo "gotask: $f is not a regular file (get with sudo copies single files)" >&2; exit 1; fi
cat -- "$f"
n=$(wc -c < "$f")
sum=$(openssl dgst -sha256 -r "$f" 2>/dev/null || sha256sum "$f")
echo "gotask-sudo-get $n $sum" >&2`, shell.Quote(homeRelative(src)))
	h := sha256.New()
	counter := &countWriter{w: io.MultiWriter(tmp, h)}
	var stderr bytes.Buffer
	if err := s.sudoRun(ctx, script, user, nil, counter, &stderr); err != nil {
		return res, sudoCopyError("get", src, dst, err, &stderr)
	}
	size, sum, found := parseSudoGetReport(stderr.String())
	switch {
	case !found:
		return res, fmt.Errorf("get %s with sudo: the host reported no size and SHA-256: %s", src, strings.TrimSpace(stderr.String()))
	case size != counter.n:
		return res, fmt.Errorf("get %s with sudo: %d bytes arrived, the host's file has %d: it changed or the transfer broke; try again", src, counter.n, size)
	case sum != hex.EncodeToString(h.Sum(nil)):
		return res, fmt.Errorf("get %s with sudo: SHA-256 differs from the host's after the transfer; try again", src)
	}
	if err := tmp.Chmod(mode.Perm()); err != nil {
		return res, fmt.Errorf("get: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return res, fmt.Errorf("get: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return res, fmt.Errorf("get: %w", err)
	}
	ok = true
	res.Files, res.Bytes = 1, counter.n
	return res, nil
}

// parseSudoGetReport finds "gotask-sudo-get SIZE HEX..." in a sudo get's
// stderr.
func parseSudoGetReport(stderr string) (size int64, sum string, ok bool) {
	i := strings.LastIndex(stderr, "gotask-sudo-get ")
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(strings.TrimPrefix(stderr[i:], "gotask-sudo-get "))
	if len(f) < 2 || len(f[1]) < 64 {
		return 0, "", false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, "", false
	}
	return n, strings.TrimPrefix(f[1], `\`)[:64], true
}

// sudoRun runs script on the host through sudo as user, with the same
// password handling as a sudo run step, without a pty (the bytes must
// pass unchanged).
func (s *scope) sudoRun(ctx context.Context, script, user string, stdin io.Reader, stdout, stderr io.Writer) error {
	sudo, err := s.e.sudoFor(ctx, s.host, user)
	if err != nil {
		return err
	}
	cmd := &runner.Cmd{Command: script, Stdin: stdin, Stdout: stdout, Stderr: stderr, Pty: runner.PtyOff, Capture: -1}
	_, err = runSudo(ctx, s.run, cmd, sudo, true)
	return err
}

// sudoCopyError says which copy failed, with what the host said.
func sudoCopyError(verb, src, dst string, err error, stderr *bytes.Buffer) error {
	msg := strings.TrimSpace(stderr.String())
	if i := strings.LastIndex(msg, "gotask-sudo-get "); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	if len(msg) > 2000 {
		msg = "..." + msg[len(msg)-2000:]
	}
	if msg != "" {
		return fmt.Errorf("%s %s to %s with sudo: %w: %s", verb, src, dst, err, msg)
	}
	return fmt.Errorf("%s %s to %s with sudo: %w", verb, src, dst, err)
}

// countWriter counts what passes through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
