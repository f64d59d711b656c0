package service

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLogFileRotates: past MaxSize, the log moves to LOG.1, LOG.1 to
// LOG.2, the oldest goes; every file holds whole lines only, is mode
// 0600, and no line is lost from the files kept.
func TestLogFileRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "up.log")
	l := &LogFile{Path: path, MaxSize: 100, Keep: 2}
	var all []string
	for i := range 40 {
		line := fmt.Sprintf("[api.1] line %02d\n", i) // 16 bytes: 6 a file
		all = append(all, line)
		if _, err := l.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files := LogFiles(path, 2)
	if want := []string{path + ".2", path + ".1", path}; strings.Join(files, " ") != strings.Join(want, " ") {
		t.Fatalf("LogFiles = %q, want %q", files, want)
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Errorf("%s.3 kept, with Keep = 2", path)
	}
	var kept string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 100 || len(b) == 0 || !bytes.HasSuffix(b, []byte("\n")) || !bytes.HasPrefix(b, []byte("[api.1] line")) {
			t.Errorf("%s: %d bytes, %q: want whole lines, at most 100 bytes", f, len(b), b)
		}
		fi, _ := os.Stat(f)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
		kept += string(b)
	}
	// The last 16 lines (two full files of 6, and 4) are there, in order.
	if want := strings.Join(all[24:], ""); kept != want {
		t.Errorf("the files hold\n%s\nwant\n%s", kept, want)
	}
	// A new LogFile on the same path goes on where the old one was.
	l2 := &LogFile{Path: path, MaxSize: 100, Keep: 2}
	if _, err := l2.Write([]byte("[api.1] after\n")); err != nil {
		t.Fatal(err)
	}
	l2.Close()
	if b, _ := os.ReadFile(path); !strings.HasSuffix(string(b), all[39]+"[api.1] after\n") {
		t.Errorf("after reopening: %q", b)
	}
}

// TestTailLog: the last n lines across rotated files, filtered, and the
// offset where following goes on (after the last whole line).
func TestTailLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "up.log")
	l := &LogFile{Path: path, MaxSize: 60, Keep: 2}
	for i := range 12 {
		svc := "api.1"
		if i%2 == 1 {
			svc = "worker"
		}
		fmt.Fprintf(l, "[%s] %d\n", svc, i)
	}
	l.Close()
	// A line being written, not yet whole.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("[api.1] partial")
	f.Close()

	var out bytes.Buffer
	off, err := TailLog(&out, path, 2, 3, func(line []byte) bool { return bytes.HasPrefix(line, []byte("[api.1]")) })
	if err != nil {
		t.Fatal(err)
	}
	if want := "[api.1] 6\n[api.1] 8\n[api.1] 10\n"; out.String() != want {
		t.Errorf("TailLog -n 3 api = %q, want %q", out.String(), want)
	}
	b, _ := os.ReadFile(path)
	if want := int64(bytes.LastIndexByte(b, '\n') + 1); off != want {
		t.Errorf("offset %d, want %d (after the last whole line)", off, want)
	}
	out.Reset()
	if _, err := TailLog(&out, path, 2, -1, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got < 6 {
		t.Errorf("TailLog of all lines: %q", out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits for cond, with a 2-minute hang guard.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 2 minutes for %s", what)
		}
	}
}

// TestFollowLog: lines appended after the offset come out as they are
// written, a line written in two pieces comes out whole, and following
// carries on across a rotation without losing the old file's last
// lines.
func TestFollowLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "up.log")
	l := &LogFile{Path: path, MaxSize: 40, Keep: 2}
	fmt.Fprintf(l, "[api] old\n")
	off, err := TailLog(new(bytes.Buffer), path, 2, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- FollowLog(ctx, &out, path, 2, off, func(line []byte) bool { return !bytes.HasPrefix(line, []byte("[skip]")) }, nil)
	}()
	fmt.Fprintf(l, "[api] one\n")
	waitFor(t, "the first line", func() bool { return out.String() == "[api] one\n" })
	l.Write([]byte("[api] tw"))
	l.Write([]byte("o\n[skip] x\n"))
	waitFor(t, "the second line", func() bool { return out.String() == "[api] one\n[api] two\n" })
	// These rotate the file (40 bytes) more than once.
	for i := range 8 {
		fmt.Fprintf(l, "[api] line %d\n", i)
	}
	want := "[api] one\n[api] two\n"
	for i := range 8 {
		want += fmt.Sprintf("[api] line %d\n", i)
	}
	waitFor(t, "the lines around rotation", func() bool { return len(out.String()) >= len(want) || !strings.HasPrefix(want, out.String()) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if out.String() != want {
		t.Errorf("followed:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestFollowLogEnds: when its writer ends, FollowLog reads what was
// written last and returns, without ctx ending.
func TestFollowLogEnds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "up.log")
	l := &LogFile{Path: path}
	end := make(chan struct{})
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- FollowLog(t.Context(), &out, path, 2, 0, nil, end) }()
	fmt.Fprintf(l, "[api] one\n")
	waitFor(t, "the first line", func() bool { return out.String() == "[api] one\n" })
	fmt.Fprintf(l, "[api] the last\n")
	l.Close()
	close(end)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("FollowLog did not return in 2 minutes after its writer ended")
	}
	if out.String() != "[api] one\n[api] the last\n" {
		t.Errorf("followed %q", out.String())
	}
}
