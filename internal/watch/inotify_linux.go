package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dirMask is what each watched directory reports: files written,
// created, removed and renamed, and the directory's own removal.
const dirMask = unix.IN_CLOSE_WRITE | unix.IN_MODIFY | unix.IN_CREATE | unix.IN_DELETE |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW

// inotify watches each directory with inotify(7).
type inotify struct {
	f  *os.File // the inotify descriptor, non-blocking, read through Go's poller
	fd int      // the same descriptor, for adding watches (f.Fd would make f blocking)

	mu    sync.Mutex
	dirs  map[int32]string // watch descriptor -> directory, relative to the root
	byDir map[string]int32
}

func newBackend(w *Watcher) (backend, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	in := &inotify{
		f:     os.NewFile(uintptr(fd), "inotify"),
		fd:    fd,
		dirs:  map[int32]string{},
		byDir: map[string]int32{},
	}
	if err := w.walk("", in.add(w), nil); err != nil {
		in.f.Close()
		return nil, err
	}
	return in, nil
}

// add returns a walk function adding a watch on each directory.
func (in *inotify) add(w *Watcher) func(rel string) error {
	return func(rel string) error {
		abs := filepath.Join(w.root, filepath.FromSlash(rel))
		wd, err := unix.InotifyAddWatch(in.fd, abs, dirMask)
		switch {
		case errors.Is(err, unix.ENOSPC):
			return fmt.Errorf("watching %s: out of inotify watches; raise the limit (sysctl fs.inotify.max_user_watches) or narrow the patterns", abs)
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EACCES):
			return nil // gone or unreadable since it was listed
		case err != nil:
			return fmt.Errorf("watching %s: %w", abs, err)
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		if old, ok := in.byDir[rel]; ok && old != int32(wd) {
			delete(in.dirs, old)
		}
		in.dirs[int32(wd)] = rel
		in.byDir[rel] = int32(wd)
		return nil
	}
}

// forget removes the watches of rel and everything below it (a directory
// renamed away: its watches would report under the old name).
func (in *inotify) forget(rel string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for d, wd := range in.byDir {
		if d == rel || strings.HasPrefix(d, rel+"/") {
			unix.InotifyRmWatch(in.fd, uint32(wd))
			delete(in.byDir, d)
			delete(in.dirs, wd)
		}
	}
}

func (in *inotify) close() error { return in.f.Close() }

func (in *inotify) run(w *Watcher) error {
	buf := make([]byte, 64*1024)
	for {
		n, err := in.f.Read(buf)
		if err != nil {
			select {
			case <-w.done:
				return nil
			default:
			}
			return fmt.Errorf("reading inotify events: %w", err)
		}
		var batch Change
		seen := map[string]bool{}
		note := func(p string) {
			if !seen[p] {
				seen[p] = true
				batch.Paths = append(batch.Paths, p)
			}
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			name := strings.TrimRight(string(nameBytes), "\x00")
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				batch.Overflow = true
				// Pick up directories created while events were lost.
				if err := w.walk("", in.add(w), nil); err != nil {
					return err
				}
				continue
			}
			in.mu.Lock()
			dir, ok := in.dirs[ev.Wd]
			if ev.Mask&unix.IN_IGNORED != 0 && ok {
				delete(in.dirs, ev.Wd)
				if in.byDir[dir] == ev.Wd {
					delete(in.byDir, dir)
				}
			}
			in.mu.Unlock()
			if !ok || name == "" {
				continue
			}
			p := join(dir, name)
			if ev.Mask&unix.IN_ISDIR != 0 {
				switch {
				case ev.Mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0:
					// Watch it, and count what it already holds: files
					// written before the watch existed have no event.
					err := w.walk(p, in.add(w), func(f string, _ fs.FileInfo) { note(f) })
					if err != nil {
						return err
					}
				case ev.Mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0:
					in.forget(p)
					if w.enter(p) {
						note(p)
					}
				}
				continue
			}
			if w.match.Match(p) {
				note(p)
			}
		}
		if !w.send(batch) {
			return nil
		}
	}
}
