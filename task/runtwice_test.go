package task

import (
	"bytes"
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
