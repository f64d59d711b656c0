//go:build unix

package lock

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Local is a lock on this machine, held.
type Local struct {
	f *os.File
}

// TryLocal takes the lock name in dir (DIR/NAME.lock) if nobody holds it,
// and writes me into it. When another process (or another open of the
// same file in this process) holds it, it returns a nil *Local and the
// holder, as the holder wrote itself (nil if it has not yet). dir is
// created 0700 (and tightened to 0700 if it exists), the file 0600.
func TryLocal(dir, name string, me Holder) (*Local, *Holder, error) {
	if !ValidName(name) {
		return nil, nil, fmt.Errorf("lock name %q: use letters, digits, '-', '_', '.' and ':'", name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", name, err)
	}
	path := filepath.Join(dir, name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("lock %s: %s is not a regular file; remove it", name, path)
	}
	// The descriptor is close-on-exec (os.OpenFile), so no command gotask
	// starts inherits the lock and keeps it after gotask ends.
	fd := int(f.Fd())
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		data, _ := io.ReadAll(io.LimitReader(f, 4096))
		f.Close()
		return nil, parseHolder(string(data)), nil
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("lock %s: flock %s: %w", name, path, err)
	}
	info := me.encode()
	if err = f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(info), 0)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("lock %s: writing %s: %w", name, path, err)
	}
	return &Local{f: f}, nil, nil
}

// Unlock releases the lock. The file stays, emptied: removing it could
// let a waiter hold a lock on a file that is no longer the lock.
func (l *Local) Unlock() error {
	l.f.Truncate(0)
	return l.f.Close() // closing the only descriptor releases the flock
}

// alive reports whether process pid exists on this machine (EPERM: it
// exists, as another user's).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
