package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

const persistSupported = true

// privateDir creates dir mode 0700 if it is missing and checks that it is
// a directory (not a link to one) of this user's that no one else may
// enter: the mux's socket and key are safe there.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating the persist directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("persist directory: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("persist directory %s is not a directory; remove it", dir)
	case !ok || int(st.Uid) != os.Getuid():
		return fmt.Errorf("persist directory %s belongs to another user; remove it or set XDG_RUNTIME_DIR", dir)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("persist directory %s is open to other users (mode %v); chmod 700 it", dir, fi.Mode().Perm())
	}
	return nil
}

// peerUID returns the user id of the process at the other end of a unix
// socket connection, as the kernel recorded it when it connected.
func peerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, errors.New("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if cerr != nil {
		return -1, cerr
	}
	return int(cred.Uid), nil
}

// listenPrivate listens on a unix socket created mode 0600 from the
// start: the umask is set for the call (the mux is a process of its own,
// with no other threads creating files).
func listenPrivate(path string) (net.Listener, error) {
	old := unix.Umask(0o177)
	defer unix.Umask(old)
	return net.Listen("unix", path)
}
