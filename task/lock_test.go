package task

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotask/gotask/runner/local"
)

// A task called from a task that holds the same lock runs under it: it
// does not wait for its own caller.
func TestLockHeldByTheCallerIsNotWaitedFor(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "outer", Lock: "x", Steps: []Step{{Task: "inner"}}})
	r.MustAdd(Task{Name: "inner", Lock: "x", Steps: logs("inner")})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang guard
	defer cancel()
	dir := t.TempDir()
	r.Dir = dir
	var stderr strings.Builder
	e := &Executor{Registry: r, Local: local.New(), Stderr: &stderr}
	if err := e.Run(ctx, Call{Name: "outer"}); err != nil {
		t.Fatalf("outer: %v (stderr %q)", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "waiting") {
		t.Errorf("inner waited for its caller's lock: %q", stderr.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "log")); string(b) != "inner\n" {
		t.Errorf("log %q, want inner", b)
	}
}

// Two deps of one run with the same lock, started at once, run one after
// the other.
func TestLockSerializesTasksOfOneRun(t *testing.T) {
	r := NewRegistry()
	for _, n := range []string{"a", "b", "c"} {
		r.MustAdd(Task{Name: n, Lock: "y", Steps: sh("echo " + n + "-start >> log; sleep 0.05; echo " + n + "-end >> log")})
	}
	r.MustAdd(Task{Name: "all", Deps: []string{"a", "b", "c"}})
	x := runTasks(t, r, func(e *Executor) { e.Jobs = 3 }, Call{Name: "all"})
	if x.err != nil {
		t.Fatal(x.err)
	}
	got := x.log(t)
	if len(got) != 6 {
		t.Fatalf("log %q", got)
	}
	for i := 0; i < len(got); i += 2 {
		n := strings.TrimSuffix(got[i], "-start")
		if got[i+1] != n+"-end" {
			t.Fatalf("log %q: another task ran inside %s's lock", got, n)
		}
	}
}

// A lock held by another process (here: another open of the lock file)
// fails the task at once under NoWait, with a *LockHeldError, and the
// task's commands do not run.
func TestLockNoWaitError(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "deploy", Lock: "deploy", Steps: logs("deploy")})
	other := NewRegistry()
	other.MustAdd(Task{Name: "hold", Lock: "deploy", Steps: sh("touch held; while [ ! -e release ]; do sleep 0.02; done")})
	dir := t.TempDir()
	r.Dir, other.Dir = dir, dir
	holder := &Executor{Registry: other, Local: local.New()}
	done := make(chan error, 1)
	go func() { done <- holder.Run(t.Context(), Call{Name: "hold"}) }()
	t.Cleanup(func() { os.WriteFile(filepath.Join(dir, "release"), nil, 0o644); <-done })
	for {
		if _, err := os.Stat(filepath.Join(dir, "held")); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("holder ended: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	e := &Executor{Registry: r, Local: local.New(), NoWait: true}
	err := e.Run(t.Context(), Call{Name: "deploy"})
	var held *LockHeldError
	if !errors.As(err, &held) || held.Lock != "deploy" || !strings.HasPrefix(held.Holder, "pid ") {
		t.Fatalf("Run = %v, want a *LockHeldError for deploy naming a pid", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "log")); err == nil {
		t.Error("the task ran although its lock was held")
	}
	// Dry runs take no lock.
	e.Dry = true
	if err := e.Run(t.Context(), Call{Name: "deploy"}); err != nil {
		t.Errorf("dry run with the lock held: %v", err)
	}
}

// A Go task's lock name is checked as tasks.toml's is.
func TestLockNameCheckedForGoTasks(t *testing.T) {
	for _, name := range []string{"a/b", "../x", "$(id)", "-x"} {
		if err := NewRegistry().Add(Task{Name: "t", Lock: name, Steps: logs("t")}); err == nil {
			t.Errorf("lock %q accepted", name)
		}
	}
	if err := NewRegistry().Add(Task{Name: "t", Lock: "web:deploy", Steps: logs("t")}); err != nil {
		t.Errorf("lock web:deploy: %v", err)
	}
}
