package service

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
)

// The defaults of a LogFile: 10 MB a file, the current one and two
// rotated ones kept (LOG.1 the newer, LOG.2 the older).
const (
	DefaultLogSize = 10 << 20
	DefaultLogKeep = 2
)

// LogFile is a log written by size-bounded pieces: once the file at Path
// holds MaxSize bytes, the next write renames it Path.1 (Path.1 becomes
// Path.2, and so on up to Path.Keep; the oldest is removed) and starts a
// new file. Files are created mode 0600. A write is never split, so a
// caller that writes whole lines gets whole lines in each file. Safe for
// concurrent use.
type LogFile struct {
	Path    string
	MaxSize int64 // 0: DefaultLogSize
	Keep    int   // rotated files kept; 0: DefaultLogKeep

	mu   sync.Mutex
	f    *os.File
	size int64
}

// Write appends p to the log, rotating it first if p would take it over
// MaxSize.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	if l.size > 0 && l.size+int64(len(p)) > l.maxSize() {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// Close closes the current file.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func (l *LogFile) maxSize() int64 {
	if l.MaxSize > 0 {
		return l.MaxSize
	}
	return DefaultLogSize
}

func (l *LogFile) keep() int {
	if l.Keep > 0 {
		return l.Keep
	}
	return DefaultLogKeep
}

func (l *LogFile) open() error {
	f, err := os.OpenFile(l.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("log: %w", err)
	}
	l.f, l.size = f, fi.Size()
	return nil
}

func (l *LogFile) rotate() error {
	l.f.Close()
	l.f = nil
	for i := l.keep(); i > 1; i-- {
		err := os.Rename(rotated(l.Path, i-1), rotated(l.Path, i))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("log: %w", err)
		}
	}
	if err := os.Rename(l.Path, rotated(l.Path, 1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("log: %w", err)
	}
	return l.open()
}

// rotated is the name of a log's i-th rotated file.
func rotated(path string, i int) string { return path + "." + strconv.Itoa(i) }

// LogFiles returns the files of the log at path that exist, oldest first:
// path.keep ... path.1, path.
func LogFiles(path string, keep int) []string {
	if keep <= 0 {
		keep = DefaultLogKeep
	}
	var files []string
	for i := keep; i >= 0; i-- {
		name := path
		if i > 0 {
			name = rotated(path, i)
		}
		if _, err := os.Stat(name); err == nil {
			files = append(files, name)
		}
	}
	return files
}

// TailLog writes to w the last n lines (every line when n < 0) of the
// log at path and its rotated files, oldest first, that keep says to
// keep. It returns the size of path as read, where FollowLog goes on.
func TailLog(w io.Writer, path string, keep, n int, keepLine func([]byte) bool) (int64, error) {
	var lines [][]byte
	var offset int64
	for _, name := range LogFiles(path, keep) {
		f, err := os.Open(name)
		if err != nil {
			return 0, fmt.Errorf("log: %w", err)
		}
		r := bufio.NewReader(f)
		var read int64
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 && (err == nil || name != path) {
				read += int64(len(line))
				if keepLine == nil || keepLine(line) {
					lines = append(lines, line)
					if n >= 0 && len(lines) > n {
						lines = lines[1:]
					}
				}
			}
			if err != nil {
				break
			}
		}
		f.Close()
		if name == path {
			offset = read
		}
	}
	for _, line := range lines {
		if _, err := w.Write(ensureNewline(line)); err != nil {
			return offset, err
		}
	}
	return offset, nil
}

func ensureNewline(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return append(b, '\n')
	}
	return b
}

// followEvery is how often FollowLog looks for more.
const followEvery = 100 * time.Millisecond

// FollowLog writes to w each line appended to the log at path after
// offset, as it comes, until ctx ends, or end is closed (its writer has
// ended: then it reads what is left first; a nil end is never closed).
// When the log is rotated (keep files kept, as for TailLog), it reads
// the end of the old file, any rotated after it, and goes on with the
// new one from its start. Only whole lines are written.
func FollowLog(ctx context.Context, w io.Writer, path string, keep int, offset int64, keepLine func([]byte) bool, end <-chan struct{}) error {
	var (
		f       *os.File
		partial []byte
	)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	open := func() error {
		nf, err := os.Open(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // not yet: rotation in progress, or not started
			}
			return fmt.Errorf("log: %w", err)
		}
		if _, err := nf.Seek(offset, io.SeekStart); err != nil {
			nf.Close()
			return fmt.Errorf("log: %w", err)
		}
		f = nf
		return nil
	}
	drain := func() error {
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				partial = append(partial, buf[:n]...)
				for {
					i := bytes.IndexByte(partial, '\n')
					if i < 0 {
						break
					}
					line := partial[:i+1]
					if keepLine == nil || keepLine(line) {
						if _, werr := w.Write(line); werr != nil {
							return werr
						}
					}
					partial = partial[i+1:]
				}
				partial = append([]byte(nil), partial...)
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("log: %w", err)
			}
		}
	}
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	for last := false; ; {
		if f == nil {
			if err := open(); err != nil {
				return err
			}
		}
		if f != nil {
			if err := drain(); err != nil {
				return err
			}
			// Rotated: path now names another file. What the old one
			// got since the last read was read just now; the files
			// rotated after it (when it rotated more than once since)
			// come next.
			if cur, err := os.Stat(path); err == nil {
				if old, err := f.Stat(); err == nil && !os.SameFile(cur, old) {
					if err := drain(); err != nil {
						return err
					}
					f.Close()
					f, offset = nil, 0
					if err := readNewer(old, LogFiles(path, keep), path, drainFile(&f, drain)); err != nil {
						return err
					}
					continue
				}
			}
		}
		if last {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-end:
			last, end = true, nil
		case <-tick.C:
		}
	}
}

// readNewer calls read with each of files (oldest first, the last being
// current, which is left out) that is newer than old: those after it,
// or all of them when old is gone.
func readNewer(old os.FileInfo, files []string, current string, read func(name string) error) error {
	var newer []string
	for _, name := range files {
		if name == current {
			break
		}
		fi, err := os.Stat(name)
		if err != nil {
			continue
		}
		if os.SameFile(fi, old) {
			newer = newer[:0]
			continue
		}
		newer = append(newer, name)
	}
	for _, name := range newer {
		if err := read(name); err != nil {
			return err
		}
	}
	return nil
}

// drainFile returns a function that reads a whole file with drain,
// through *f.
func drainFile(f **os.File, drain func() error) func(string) error {
	return func(name string) error {
		nf, err := os.Open(name)
		if err != nil {
			return nil // rotated away meanwhile
		}
		*f = nf
		err = drain()
		nf.Close()
		*f = nil
		return err
	}
}
