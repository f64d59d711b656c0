package task

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/gotask/gotask/runner/local"
)

// An Executor keeps no state from one Run to the next: what a run
// remembers (deps done, warned failures, sudo passwords) is its own.
func TestExecutorRunsTwice(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "bad", Steps: sh("exit 3")})
	r.MustAdd(Task{Name: "good", Steps: logs("good")})
	r.MustAdd(Task{Name: "dep", Steps: logs("dep")})
	r.MustAdd(Task{Name: "top", Deps: []string{"dep"}, Steps: logs("top")})
	r.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	e := &Executor{Registry: r, Local: local.New(), Stdout: &stdout, Stderr: &stderr, Warn: true}

	t.Run("a warned failure belongs to its run", func(t *testing.T) {
		if err := e.Run(t.Context(), Call{Name: "bad"}); err == nil {
			t.Fatal(`Run("bad") with Warn = nil, want the failure at the end`)
		}
		if err := e.Run(t.Context(), Call{Name: "good"}); err != nil {
			t.Fatalf(`second Run("good") = %v, want nil: the first run's failure leaked into it`, err)
		}
	})
	t.Run("deps run once per run, in every run", func(t *testing.T) {
		x := &execRun{dir: r.Dir}
		before := x.log(t)
		e := &Executor{Registry: r, Local: local.New(), Stdout: &stdout, Stderr: &stderr}
		for range 2 {
			if err := e.Run(t.Context(), Call{Name: "top"}); err != nil {
				t.Fatalf("Run(top): %v\n%s", err, stderr.String())
			}
		}
		got := x.log(t)[len(before):]
		if want := []string{"dep", "top", "dep", "top"}; !slices.Equal(got, want) {
			t.Fatalf("two runs of top logged %q, want %q", got, want)
		}
	})
}

// The sudo password is asked once per run: a second run of the same
// Executor asks again rather than reuse the first run's answer. The
// test runs as root, whose sudo asks nothing, so that the prompt is the
// only place a password comes from.
func TestExecutorAsksSudoPasswordPerRun(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, whose sudo asks for no password")
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("needs sudo")
	}
	r := NewRegistry()
	r.MustAdd(Task{Name: "root", Sudo: "root", Steps: sh("true")})
	r.Dir = t.TempDir()
	asked := 0
	e := &Executor{Registry: r, Local: local.New(), NoPty: true,
		SudoPrompt: func(context.Context) (string, error) { asked++; return "pw", nil }}
	for run := 1; run <= 2; run++ {
		if err := e.Run(t.Context(), Call{Name: "root"}, Call{Name: "root"}); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if asked != run {
			t.Fatalf("after run %d the password was asked %d times, want once per run", run, asked)
		}
	}
}
