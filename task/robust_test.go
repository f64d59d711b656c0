package task

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/runner/local"
)

// Ctrl-C while a huge source is being hashed stops the check at once,
// and the task's command never starts.
func TestInterruptDuringUpToDateCheck(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "huge.bin")
	if err := os.WriteFile(big, []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewRegistry()
	r.MustAdd(Task{Name: "build", Sources: []string{"huge.bin"}, Steps: sh("touch ran")})
	r.Dir = dir
	// A first run records the source, so the next check hashes it again.
	if err := (&Executor{Registry: r, Local: local.New()}).Run(t.Context(), Call{Name: "build"}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "ran"))
	// A sparse terabyte: reading it whole would take many minutes.
	if err := os.Truncate(big, 1<<40); err != nil {
		t.Skipf("this file system cannot make a sparse file: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	e := &Executor{Registry: r, Local: local.New()}
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, Call{Name: "build"}) }()

	// Wait for the event: some process file descriptor reads huge.bin
	// and has got past its first megabyte.
	waitForRead(t, big, 1<<20, done)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute): // a hang guard, far above the time it takes
		t.Fatal("Run still hashing a minute after Ctrl-C")
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the task's command ran after Ctrl-C")
	}
}

// waitForRead waits until one of this process's descriptors has read
// more than n bytes of file, failing if done delivers first.
func waitForRead(t *testing.T, file string, n int64, done <-chan error) {
	t.Helper()
	for {
		select {
		case err := <-done:
			t.Fatalf("Run ended before the hashing could be seen: %v", err)
		default:
		}
		fds, _ := os.ReadDir("/proc/self/fd")
		if fds == nil {
			t.Skip("no /proc/self/fd to watch the hashing with")
		}
		for _, fd := range fds {
			target, err := os.Readlink("/proc/self/fd/" + fd.Name())
			if err != nil || target != file {
				continue
			}
			info, err := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(info), "\n") {
				if v, ok := strings.CutPrefix(line, "pos:"); ok {
					if pos, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); pos > n {
						return
					}
				}
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// A command whose context is already cancelled is never started.
func TestLocalRunRefusesCancelledContext(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := NewRegistry()
	r.MustAdd(Task{Name: "t", Steps: sh("touch ran")})
	r.Dir = dir
	err := (&Executor{Registry: r, Local: local.New()}).Run(ctx, Call{Name: "t"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the command started with a cancelled context")
	}
}

// A forced run that fails after a good one leaves the task out of date:
// the old record must not cover a broken output.
func TestFailedForcedRunInvalidatesRecord(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "src"), []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewRegistry()
	r.MustAdd(Task{Name: "build", Sources: []string{"src"}, Generates: []string{"out"},
		Steps: sh(`if [ -e fail ]; then echo broken > out; exit 3; fi; cp src out`)})
	r.Dir = dir
	run := func(force bool) error {
		e := &Executor{Registry: r, Local: local.New()}
		if force {
			e.Force = []string{"build"}
		}
		return e.Run(t.Context(), Call{Name: "build"})
	}
	if err := run(false); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(true); err == nil {
		t.Fatal("the forced run should have failed")
	}
	os.Remove(filepath.Join(dir, "fail"))
	e := &Executor{Registry: r, Local: local.New()}
	u, err := e.Status(t.Context(), Call{Name: "build"})
	if err != nil {
		t.Fatal(err)
	}
	if u.UpToDate {
		t.Error("after a failed forced run the task is still up to date over a broken output")
	}
	// And a good forced run is recorded like any other.
	if err := run(true); err != nil {
		t.Fatal(err)
	}
	if u, err := e.Status(t.Context(), Call{Name: "build"}); err != nil || !u.UpToDate {
		t.Errorf("after a good forced run: up to date %v, %v; want true", u != nil && u.UpToDate, err)
	}
}

// A record that is a FIFO or a huge sparse file is no record: the check
// neither hangs nor reads it whole.
func TestHostileRecordFiles(t *testing.T) {
	for _, kind := range []string{"fifo", "huge"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "src"), []byte("v1"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := NewRegistry()
			r.MustAdd(Task{Name: "build", Sources: []string{"src"}, Steps: sh("echo ran >> log")})
			r.Dir = dir
			run := func() {
				t.Helper()
				if err := (&Executor{Registry: r, Local: local.New()}).Run(t.Context(), Call{Name: "build"}); err != nil {
					t.Fatal(err)
				}
			}
			run()
			state := filepath.Join(dir, StateDirName)
			recs, err := os.ReadDir(state)
			if err != nil || len(recs) != 1 {
				t.Fatalf("want one record in %s: %v %v", state, recs, err)
			}
			rec := filepath.Join(state, recs[0].Name())
			os.Remove(rec)
			switch kind {
			case "fifo":
				if err := syscall.Mkfifo(rec, 0o600); err != nil {
					t.Fatal(err)
				}
			case "huge":
				f, err := os.Create(rec)
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Truncate(20 << 30); err != nil {
					t.Skipf("no sparse files here: %v", err)
				}
				f.Close()
			}
			done := make(chan struct{})
			go func() { defer close(done); run() }()
			select {
			case <-done:
			case <-time.After(time.Minute): // hang guard
				t.Fatal("the check hung on the record file")
			}
			x := &execRun{dir: dir}
			if got := x.log(t); len(got) != 2 {
				t.Errorf("the task ran %d times, want 2 (the bad record counts as none)", len(got))
			}
		})
	}
}

// A missing working directory is reported as such, naming it, rather
// than as the shell being missing.
func TestMissingDirSaysWhich(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "t", Dir: "nosuch/dir", Steps: sh("true")})
	x := runTasks(t, r, nil, Call{Name: "t"})
	if x.err == nil {
		t.Fatal("no error for a missing dir")
	}
	msg := x.err.Error()
	if !strings.Contains(msg, `task "t"`) || !strings.Contains(msg, filepath.Join(x.dir, "nosuch/dir")+" does not exist") || strings.Contains(msg, "fork/exec") {
		t.Errorf("error = %q; want it to name the task and the missing directory", msg)
	}
}
