package service

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The files of a project's run directory (.gotask/run): the control
// socket, and the supervisor's pid file, which it holds locked (flock)
// for as long as it runs.
const (
	SocketName  = "control.sock"
	PidFileName = "supervisor.pid"
)

// maxSocketPath is the longest socket path gotask binds or dials as it
// is: sun_path holds 108 bytes on Linux and 104 on macOS and the BSDs,
// the terminating NUL included. A longer one is reached through
// /proc/self/fd (see socketAddr).
const maxSocketPath = 100

// RunningError says another supervisor already runs the project: the
// process holding its pid file's lock.
type RunningError struct {
	Dir string // the run directory
	Pid int    // the supervisor's pid, 0 when its pid file was unreadable
}

func (e *RunningError) Error() string {
	if e.Pid == 0 {
		return fmt.Sprintf("a supervisor already runs for %s", e.Dir)
	}
	return fmt.Sprintf("a supervisor (pid %d) already runs for %s", e.Pid, e.Dir)
}

// ErrNotRunning is what a client gets when no supervisor listens on the
// project's control socket: none was started, or it has ended (a socket
// file left by one that was killed counts as none).
var ErrNotRunning = errors.New("no supervisor is running")

// Control is a project's claim to be supervised by this process: its
// pid file, locked, and its control socket, listening. Only one process
// holds the claim at a time, so that a project never has two
// supervisors; the lock is the kernel's (flock), so it ends with the
// process, however that ends.
type Control struct {
	dir  string
	lock *os.File
	ln   *net.UnixListener
}

// Claim makes this process the supervisor of the project whose run
// directory is dir (created 0700 if missing; refused if another user
// owns it): it locks dir's pid file and writes its pid there, removes a
// socket left by a supervisor that ended without removing it, and
// listens on a new one, mode 0600. When another process holds the lock,
// Claim returns a *RunningError with its pid.
func Claim(dir string) (*Control, error) {
	if err := PrivateDir(dir); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, PidFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &RunningError{Dir: dir, Pid: readPid(dir)}
		}
		return nil, fmt.Errorf("control socket: locking %s: %w", f.Name(), err)
	}
	c := &Control{dir: dir, lock: f}
	if err := c.listen(); err != nil {
		c.unlock()
		return nil, err
	}
	return c, nil
}

func (c *Control) listen() error {
	// Written over the old one, then cut to length, so that a reader
	// never finds the file empty while it is held.
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if _, err := c.lock.WriteAt(pid, 0); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if err := c.lock.Truncate(int64(len(pid))); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	path := filepath.Join(c.dir, SocketName)
	// The lock is ours, so a socket there is a dead supervisor's.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("control socket: removing a stale one: %w", err)
	}
	addr, done, err := socketAddr(c.dir)
	if err != nil {
		return err
	}
	defer done()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	// Removed by Close, by its real path: the /proc/self/fd one may be
	// gone by then.
	ln.SetUnlinkOnClose(false)
	// The directory is 0700 already; the socket is private as well, in
	// case the directory is ever opened up.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		os.Remove(path)
		return fmt.Errorf("control socket: %w", err)
	}
	c.ln = ln
	return nil
}

// Listener returns the control socket, for Server.Serve.
func (c *Control) Listener() net.Listener { return c.ln }

// Close stops listening, removes the socket and gives up the claim. The
// pid file stays, empty: removing it could let a second supervisor lock
// a file that a third then creates anew.
func (c *Control) Close() error {
	err := c.ln.Close()
	os.Remove(filepath.Join(c.dir, SocketName))
	c.unlock()
	return err
}

func (c *Control) unlock() {
	_ = c.lock.Truncate(0)
	c.lock.Close() // releases the flock
}

// readPid returns the pid in dir's pid file, or 0.
func readPid(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, PidFileName))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// PrivateDir makes dir (and its missing parents) with mode 0700, and
// checks that it is a directory of this user's, not a symbolic link,
// closing it to others if it was open: where the control socket and the
// supervisor's logs live.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory; remove it", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to user %d, not to you (%d); remove it", dir, st.Uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// socketAddr returns the address to bind or dial for the control socket
// of run directory dir, and a function to call once that is done. A
// path too long for a socket address (a deep project) is reached
// through an open descriptor of dir, as /proc/self/fd/N/control.sock,
// which the kernel resolves like any path: the socket stays in dir.
func socketAddr(dir string) (string, func(), error) {
	path := filepath.Join(dir, SocketName)
	if abs, err := filepath.Abs(path); err == nil && len(abs) <= maxSocketPath {
		return abs, func() {}, nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return "", nil, fmt.Errorf("control socket: %w", err)
	}
	short := fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), SocketName)
	if _, err := os.Stat(filepath.Dir(short)); err != nil {
		d.Close()
		return "", nil, fmt.Errorf("control socket: the path %s is longer than a socket address may be (%d bytes), and there is no /proc to shorten it: move the project higher up", path, maxSocketPath)
	}
	return short, func() { d.Close() }, nil
}
