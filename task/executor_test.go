package task

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/local"
)

// run builds an Executor on a real local shell, in a fresh directory, runs
// the calls and returns what they printed and logged. Tasks log with
// "echo NAME >> log" (shell) or rec(NAME) (Go).
type execRun struct {
	dir            string
	stdout, stderr bytes.Buffer
	err            error
}

func (x *execRun) log(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(x.dir, "log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func runTasks(t *testing.T, r *Registry, setup func(*Executor), calls ...Call) *execRun {
	t.Helper()
	x := &execRun{dir: t.TempDir()}
	r.Dir = x.dir
	e := &Executor{Registry: r, Local: local.New(), Stdout: &x.stdout, Stderr: &x.stderr}
	if setup != nil {
		setup(e)
	}
	x.err = e.Run(t.Context(), calls...)
	return x
}

func sh(cmds ...string) []Step {
	steps := make([]Step, len(cmds))
	for i, c := range cmds {
		steps[i] = Step{Run: c}
	}
	return steps
}

func logs(name string) []Step { return sh("echo " + name + " >> log") }

func TestExecutorDepsRunOnceUnderConcurrency(t *testing.T) {
	// top needs eight tasks, each of which needs shared: shared runs once,
	// before all of them, and top runs last.
	r := NewRegistry()
	r.MustAdd(Task{Name: "shared", Steps: logs("shared")})
	var middle []string
	for i := range 8 {
		name := fmt.Sprintf("m%d", i)
		middle = append(middle, name)
		r.MustAdd(Task{Name: name, Deps: []string{"shared"}, Steps: logs(name)})
	}
	r.MustAdd(Task{Name: "top", Deps: middle, Steps: logs("top")})

	x := runTasks(t, r, func(e *Executor) { e.Jobs = 8 }, Call{Name: "top"})
	if x.err != nil {
		t.Fatalf("Run: %v\n%s", x.err, x.stderr.String())
	}
	log := x.log(t)
	if len(log) != 10 || log[0] != "shared" || log[9] != "top" {
		t.Fatalf("log = %q, want shared, the eight in any order, then top", log)
	}
	got := slices.Sorted(slices.Values(log[1:9]))
	if !slices.Equal(got, middle) {
		t.Errorf("middle of the log = %q, want each of %q once", got, middle)
	}
}

func TestExecutorGoDepsRunOnceUnderConcurrency(t *testing.T) {
	// The same with Go tasks, counting calls: -race checks the executor.
	var shared, running, most atomic.Int32
	r := NewRegistry()
	r.MustAdd(Task{Name: "shared", Func: func(context.Context, *Job) error {
		shared.Add(1)
		return nil
	}})
	var middle []string
	for i := range 16 {
		name := fmt.Sprintf("m%d", i)
		middle = append(middle, name)
		r.MustAdd(Task{Name: name, Deps: []string{"shared"}, Func: func(context.Context, *Job) error {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			return nil
		}})
	}
	r.MustAdd(Task{Name: "top", Deps: middle})
	x := runTasks(t, r, func(e *Executor) { e.Jobs = 3 }, Call{Name: "top"})
	if x.err != nil {
		t.Fatal(x.err)
	}
	if n := shared.Load(); n != 1 {
		t.Errorf("shared ran %d times, want 1", n)
	}
	if m := most.Load(); m > 3 {
		t.Errorf("%d deps ran at once, want at most Jobs = 3", m)
	}
}

func TestExecutorOrderAndPost(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "setup", Steps: logs("setup")})
	r.MustAdd(Task{Name: "report", Steps: logs("report")})
	r.MustAdd(Task{Name: "cleanup", Steps: logs("cleanup")})
	r.MustAdd(Task{Name: "build", Deps: []string{"setup"}, Post: []string{"report"}, Steps: sh("echo build1 >> log", "echo build2 >> log")})
	r.MustAdd(Task{Name: "broken", Deps: []string{"setup"}, Post: []string{"cleanup"}, Steps: sh("echo broken >> log; exit 1", "echo never >> log")})

	tests := []struct {
		name    string
		calls   []Call
		wantLog []string
		wantErr bool
	}{
		{name: "deps, steps in order, then post", calls: []Call{{Name: "build"}}, wantLog: []string{"setup", "build1", "build2", "report"}},
		{name: "no post after a failure", calls: []Call{{Name: "broken"}}, wantLog: []string{"setup", "broken"}, wantErr: true},
		{name: "a dep shared by two calls runs once", calls: []Call{{Name: "build"}, {Name: "build"}}, wantLog: []string{"setup", "build1", "build2", "report", "build1", "build2"}},
		{name: "a failing call stops the next", calls: []Call{{Name: "broken"}, {Name: "build"}}, wantLog: []string{"setup", "broken"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := runTasks(t, r, nil, tt.calls...)
			if (x.err != nil) != tt.wantErr {
				t.Fatalf("Run error = %v, want error %v", x.err, tt.wantErr)
			}
			if got := x.log(t); !slices.Equal(got, tt.wantLog) {
				t.Errorf("log = %q, want %q", got, tt.wantLog)
			}
		})
	}
}

func TestExecutorChecksEveryCallFirst(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "first", Steps: logs("first")})
	r.MustAdd(Task{Name: "second", Args: []Arg{{Name: "n", Type: Int}}, Steps: logs("second")})
	tests := []struct {
		name  string
		calls []Call
		want  any // the error type expected
	}{
		{"bad argument", []Call{{Name: "first"}, {Name: "second", Args: map[string]string{"n": "x"}}}, &ArgError{}},
		{"unknown argument", []Call{{Name: "first"}, {Name: "second", Args: map[string]string{"m": "1"}}}, &ArgError{}},
		{"unknown task", []Call{{Name: "first"}, {Name: "third"}}, &UnknownTaskError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := runTasks(t, r, nil, tt.calls...)
			switch tt.want.(type) {
			case *ArgError:
				var ae *ArgError
				if !errors.As(x.err, &ae) {
					t.Fatalf("Run error = %v, want an *ArgError", x.err)
				}
			case *UnknownTaskError:
				var ue *UnknownTaskError
				if !errors.As(x.err, &ue) {
					t.Fatalf("Run error = %v, want an *UnknownTaskError", x.err)
				}
			}
			if log := x.log(t); log != nil {
				t.Errorf("something ran before the bad call was found: %q", log)
			}
		})
	}
}

func TestExecutorFailures(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "three", Steps: sh("exit 3", "echo after >> log")})
	r.MustAdd(Task{Name: "tolerant", Warn: true, Steps: sh("exit 3", "echo after >> log")})
	r.MustAdd(Task{Name: "stepwarn", Steps: []Step{{Run: "exit 3", Warn: true}, {Run: "echo after >> log"}}})
	r.MustAdd(Task{Name: "slow", Timeout: 100 * time.Millisecond, Steps: sh("sleep 30", "echo after >> log")})

	tests := []struct {
		name     string
		call     string
		warnFlag bool
		wantCode int  // of the *runner.ExitError; 0 for no error
		timedOut bool // of the *runner.ExitError
		wantLog  []string
		wantWarn bool // a "(continuing)" warning on stderr
	}{
		{name: "exit status", call: "three", wantCode: 3},
		{name: "executor warn carries on but fails", call: "three", warnFlag: true, wantCode: 3, wantLog: []string{"after"}, wantWarn: true},
		{name: "task warn carries on and succeeds", call: "tolerant", wantLog: []string{"after"}, wantWarn: true},
		{name: "step warn carries on and succeeds", call: "stepwarn", wantLog: []string{"after"}, wantWarn: true},
		{name: "timeout", call: "slow", wantCode: 124, timedOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := runTasks(t, r, func(e *Executor) { e.Warn = tt.warnFlag }, Call{Name: tt.call})
			if tt.wantCode == 0 {
				if x.err != nil {
					t.Fatalf("Run: %v", x.err)
				}
			} else {
				var te *TaskError
				var ee *runner.ExitError
				if !errors.As(x.err, &te) || te.Task != tt.call || !errors.As(x.err, &ee) {
					t.Fatalf("Run error = %v (%T), want a *TaskError for %q wrapping a *runner.ExitError", x.err, x.err, tt.call)
				}
				if ee.TimedOut != tt.timedOut || !tt.timedOut && ee.Code != tt.wantCode {
					t.Errorf("ExitError = %+v, want code %d, timed out %v", ee, tt.wantCode, tt.timedOut)
				}
			}
			if got := x.log(t); !slices.Equal(got, tt.wantLog) {
				t.Errorf("log = %q, want %q", got, tt.wantLog)
			}
			if got := strings.Contains(x.stderr.String(), "(continuing)"); got != tt.wantWarn {
				t.Errorf("warning printed: %v, want %v; stderr:\n%s", got, tt.wantWarn, x.stderr.String())
			}
		})
	}
}

func TestExecutorRetries(t *testing.T) {
	// Each try appends to tries; the command succeeds from the third.
	const flaky = `echo try >> tries; [ "$(wc -l < tries)" -ge 3 ]`
	tests := []struct {
		retries   int
		wantTries int
		wantErr   bool
	}{
		{retries: 0, wantTries: 1, wantErr: true},
		{retries: 1, wantTries: 2, wantErr: true},
		{retries: 2, wantTries: 3},
		{retries: 5, wantTries: 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("retries=", tt.retries), func(t *testing.T) {
			r := NewRegistry()
			r.MustAdd(Task{Name: "flaky", Retries: tt.retries, Steps: sh(flaky)})
			x := runTasks(t, r, nil, Call{Name: "flaky"})
			if (x.err != nil) != tt.wantErr {
				t.Fatalf("Run error = %v, want error %v", x.err, tt.wantErr)
			}
			b, _ := os.ReadFile(filepath.Join(x.dir, "tries"))
			if n := strings.Count(string(b), "try\n"); n != tt.wantTries {
				t.Errorf("ran %d times, want %d", n, tt.wantTries)
			}
			if n := strings.Count(x.stderr.String(), "retrying"); n != tt.wantTries-1 {
				t.Errorf("%d retry messages, want %d:\n%s", n, tt.wantTries-1, x.stderr.String())
			}
		})
	}
}

func TestExecutorDryRunRunsNothing(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "dep", Steps: logs("dep")})
	r.MustAdd(Task{Name: "gotask", Func: func(context.Context, *Job) error {
		return errors.New("a dry run called the Go function")
	}})
	r.MustAdd(Task{Name: "main", Deps: []string{"dep"}, Post: []string{"gotask"}, Confirm: "Sure?",
		Args: []Arg{{Name: "msg"}}, Steps: sh("echo {{.msg}} >> log")})
	x := runTasks(t, r, func(e *Executor) { e.Dry = true }, Call{Name: "main", Args: map[string]string{"msg": "$(id)"}})
	if x.err != nil {
		t.Fatalf("Run: %v", x.err)
	}
	if log := x.log(t); log != nil {
		t.Errorf("a dry run ran commands: log %q", log)
	}
	want := "# dep\n$ echo dep >> log\n# main\n$ echo '$(id)' >> log\n# gotask: Go task; would run its function\n"
	if got := x.stdout.String(); got != want {
		t.Errorf("dry run printed:\n%s\nwant:\n%s", got, want)
	}
}

func TestExecutorConfirm(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*Executor)
		wantRan bool
		wantErr string
	}{
		{name: "no way to ask", setup: func(*Executor) {}, wantErr: "there is no terminal to answer"},
		{name: "assume yes", setup: func(e *Executor) { e.AssumeYes = true }, wantRan: true},
		{name: "answered yes", setup: func(e *Executor) { e.Confirm = func(string) (bool, error) { return true, nil } }, wantRan: true},
		{name: "answered no", setup: func(e *Executor) { e.Confirm = func(string) (bool, error) { return false, nil } }, wantErr: "not confirmed; nothing was run"},
		{name: "no answer", setup: func(e *Executor) { e.Confirm = func(string) (bool, error) { return false, errors.New("eof") } }, wantErr: "eof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			r := NewRegistry()
			r.MustAdd(Task{Name: "drop", Confirm: "Drop the database?", Steps: logs("drop")})
			x := runTasks(t, r, func(e *Executor) {
				tt.setup(e)
				if ask := e.Confirm; ask != nil {
					e.Confirm = func(q string) (bool, error) { asked = append(asked, q); return ask(q) }
				}
			}, Call{Name: "drop"})
			if ran := x.log(t) != nil; ran != tt.wantRan {
				t.Errorf("ran = %v, want %v", ran, tt.wantRan)
			}
			if tt.wantErr == "" && x.err != nil || tt.wantErr != "" && (x.err == nil || !strings.Contains(x.err.Error(), tt.wantErr)) {
				t.Errorf("Run error = %v, want %q", x.err, tt.wantErr)
			}
			if noWay := tt.name == "no way to ask"; errors.Is(x.err, ErrNoAnswer) != noWay {
				t.Errorf("Run error %v: errors.Is ErrNoAnswer = %v, want %v", x.err, !noWay, noWay)
			}
			if len(asked) > 0 && asked[0] != "Drop the database?" {
				t.Errorf("asked %q", asked)
			}
		})
	}
}

func TestGoTaskContext(t *testing.T) {
	r := NewRegistry()
	r.Vars["greeting"] = "Hello"
	var got []string
	r.MustAdd(Task{
		Name: "greet",
		Args: []Arg{
			{Name: "name", Required: true},
			{Name: "times", Type: Int, Default: 2},
			{Name: "loud", Type: Bool},
			{Name: "wait", Type: Duration, Default: "3s"},
		},
		Func: func(ctx context.Context, j *Job) error {
			for range j.Int("times") {
				res, err := j.Run(ctx, "echo "+Quote(j.Var("greeting")+", "+j.String("name")), Hide())
				if err != nil {
					return err
				}
				got = append(got, strings.TrimSpace(string(res.Stdout)))
			}
			got = append(got, fmt.Sprint(j.Bool("loud"), " ", j.Duration("wait"), " host=", j.Host()))
			// Options: env, dir, warn.
			res, err := j.Run(ctx, `mkdir -p sub && cd sub && echo "$X" >> ../log; exit 4`, WithEnv("X", "from-env"), Warn())
			if err != nil || res.ExitCode != 4 {
				return fmt.Errorf("Warn() run: %v, %+v", err, res)
			}
			res, err = j.Run(ctx, "pwd", InDir("sub"), Hide())
			if err != nil {
				return err
			}
			got = append(got, filepath.Base(strings.TrimSpace(string(res.Stdout))))
			fmt.Fprintln(j.Stdout(), "done")
			return nil
		},
	})
	x := runTasks(t, r, nil, Call{Name: "greet", Args: map[string]string{"name": "Ada $(id)", "loud": "true"}})
	if x.err != nil {
		t.Fatalf("Run: %v\n%s", x.err, x.stderr.String())
	}
	want := []string{"Hello, Ada $(id)", "Hello, Ada $(id)", "true 3s host=", "sub"}
	if !slices.Equal(got, want) {
		t.Errorf("the Go task saw %q, want %q", got, want)
	}
	if log := x.log(t); !slices.Equal(log, []string{"from-env"}) {
		t.Errorf("log = %q, want the env value", log)
	}
	if x.stdout.String() != "done\n" {
		t.Errorf("stdout = %q: hidden output leaked, or Stdout() lost", x.stdout.String())
	}
}

func TestGoTaskErrors(t *testing.T) {
	r := NewRegistry()
	r.MustAdd(Task{Name: "fails", Func: func(ctx context.Context, j *Job) error {
		_, err := j.Run(ctx, "exit 7")
		return err
	}})
	r.MustAdd(Task{Name: "plain", Func: func(context.Context, *Job) error { return errors.New("no luck") }})

	x := runTasks(t, r, nil, Call{Name: "fails"})
	var ee *runner.ExitError
	var te *TaskError
	if !errors.As(x.err, &ee) || ee.Code != 7 || !errors.As(x.err, &te) || te.Task != "fails" {
		t.Errorf("a failing command in a Go task: %v, want a *TaskError wrapping exit status 7", x.err)
	}
	x = runTasks(t, r, nil, Call{Name: "plain"})
	if x.err == nil || x.err.Error() != `task "plain": no luck` {
		t.Errorf("a Go task's own error: %v, want it wrapped with the task name", x.err)
	}
}

func TestGoAndTOMLTasksDependOnEachOther(t *testing.T) {
	// gen (Go) <- build (TOML) <- ship (Go), and build calls Go's stamp
	// as a step with arguments.
	var mu sync.Mutex
	var order []string
	rec := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	r := NewRegistry()
	r.MustAdd(Task{Name: "gen", Func: func(context.Context, *Job) error { rec("gen"); return nil }})
	r.MustAdd(Task{Name: "stamp", Args: []Arg{{Name: "v", Type: Int}}, Func: func(_ context.Context, j *Job) error {
		rec(fmt.Sprint("stamp ", j.Int("v")))
		return nil
	}})
	r.MustAdd(Task{Name: "ship", Deps: []string{"build"}, Func: func(ctx context.Context, j *Job) error {
		if err := j.Task(ctx, "stamp", map[string]string{"v": "2"}); err != nil {
			return err
		}
		rec("ship")
		return nil
	}})
	err := r.LoadBytes(filepath.Join(t.TempDir(), "tasks.toml"), []byte(`
[tasks.build]
deps = ["gen"]
steps = [
  { run = "true" },
  { task = "stamp", args = { v = 1 } },
]
`))
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	x := runTasks(t, r, nil, Call{Name: "ship"})
	if x.err != nil {
		t.Fatalf("Run: %v", x.err)
	}
	want := []string{"gen", "stamp 1", "stamp 2", "ship"}
	if !slices.Equal(order, want) {
		t.Errorf("ran %q, want %q", order, want)
	}

	// A Go task whose dep is missing from tasks.toml fails validation.
	r = NewRegistry()
	r.MustAdd(Task{Name: "ship", Deps: []string{"biuld"}, Func: func(context.Context, *Job) error { return nil }})
	err = r.LoadBytes("tasks.toml", []byte("[tasks.build]\nrun = \"true\"\n"))
	if err == nil || !strings.Contains(err.Error(), `task "ship": unknown dependency "biuld"; did you mean "build"?`) {
		t.Errorf("Go task with a missing dep: %v", err)
	}

	// A Go task and a tasks.toml task of the same name clash.
	r = NewRegistry()
	r.MustAdd(Task{Name: "build", Func: func(context.Context, *Job) error { return nil }})
	err = r.LoadBytes("tasks.toml", []byte("[tasks.build]\nrun = \"true\"\n"))
	if err == nil || err.Error() != `tasks.toml:1:2: task "build" is defined twice` {
		t.Errorf("Go and TOML task of one name: %v", err)
	}
}

// TestGoTaskRunCapturesItsOutput checks that a Go task's Run asks for
// the output it returns: the runner keeps only a short tail of a command
// nobody reads.
func TestGoTaskRunCapturesItsOutput(t *testing.T) {
	r := NewRegistry()
	var out []byte
	var truncated bool
	r.MustAdd(Task{
		Name: "count",
		Func: func(ctx context.Context, c *Job) error {
			res, err := c.Run(ctx, "seq 20000", Hide())
			if err != nil {
				return err
			}
			out, truncated = res.Stdout, res.Truncated
			return nil
		},
	})
	x := runTasks(t, r, nil, Call{Name: "count"})
	if x.err != nil {
		t.Fatalf("Run: %v\n%s", x.err, x.stderr.String())
	}
	var want strings.Builder
	for i := 1; i <= 20000; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	if string(out) != want.String() || truncated {
		t.Errorf("Run kept %d bytes (truncated %v) of the %d that seq wrote", len(out), truncated, want.Len())
	}
}

func TestExecutorPassthroughReachesGoTasks(t *testing.T) {
	// A Go task sees the words after `--` as they were given, and a
	// task called without any sees none.
	var got [][]string
	r := NewRegistry()
	r.MustAdd(Task{Name: "go", Func: func(_ context.Context, j *Job) error {
		got = append(got, j.Words(PassthroughName))
		return nil
	}})
	x := runTasks(t, r, nil, Call{Name: "go", Passthrough: []string{"-run", "$(id)", ""}}, Call{Name: "go"})
	if x.err != nil {
		t.Fatal(x.err)
	}
	want := [][]string{{"-run", "$(id)", ""}, nil}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Words(ARGS) = %q, want %q", got, want)
	}
}

func TestExecutorConfirmBeforeDeps(t *testing.T) {
	// A deploy asks before it builds: at the question no dep has run,
	// and a no runs none of them.
	for _, yes := range []bool{true, false} {
		t.Run(fmt.Sprint("yes=", yes), func(t *testing.T) {
			r := NewRegistry()
			r.MustAdd(Task{Name: "build", Steps: logs("build")})
			r.MustAdd(Task{Name: "deploy", Deps: []string{"build"}, Confirm: "Deploy?", Steps: logs("deploy")})
			asked := false
			var atQuestion error
			x := runTasks(t, r, func(e *Executor) {
				e.Confirm = func(string) (bool, error) {
					asked = true
					_, atQuestion = os.Stat(filepath.Join(r.Dir, "log"))
					return yes, nil
				}
			}, Call{Name: "deploy"})
			if !asked {
				t.Fatal("confirm was not asked")
			}
			if !errors.Is(atQuestion, os.ErrNotExist) {
				t.Errorf("when asked, the log existed (stat: %v): deps ran before the question", atQuestion)
			}
			want := []string{"build", "deploy"}
			if !yes {
				want = nil
			}
			if got := x.log(t); !slices.Equal(got, want) {
				t.Errorf("log = %q, want %q", got, want)
			}
		})
	}
}

func TestExecutorRetryDelayDoubles(t *testing.T) {
	// retry_delay waits before each retry, twice as long each time, up
	// to MaxRetryDelay; the waits are recorded, not slept.
	r := NewRegistry()
	r.MustAdd(Task{Name: "flaky", Retries: 6, RetryDelay: 4 * time.Second, Steps: sh("echo try >> log; exit 1")})
	var waits []time.Duration
	x := runTasks(t, r, func(e *Executor) {
		e.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	}, Call{Name: "flaky"})
	if x.err == nil {
		t.Fatal("a command that always fails succeeded")
	}
	if n := len(x.log(t)); n != 7 {
		t.Errorf("ran %d times, want 7 (1 + 6 retries)", n)
	}
	want := []time.Duration{4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	if !slices.Equal(waits, want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}
}

func TestExecutorRetryDelayStopsOnCancel(t *testing.T) {
	// Ctrl-C during the wait ends the run at once (the real timer, a
	// delay far longer than the test's hang guard).
	r := NewRegistry()
	r.MustAdd(Task{Name: "flaky", Retries: 1, RetryDelay: time.Hour, Steps: sh("echo try >> log; exit 1")})
	ctx, cancel := context.WithCancel(t.Context())
	e := &Executor{Registry: r, Local: local.New(), Stderr: cancelOnWrite{cancel}}
	r.Dir = t.TempDir()
	err := e.Run(ctx, Call{Name: "flaky"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}

// cancelOnWrite cancels when gotask says it is retrying.
type cancelOnWrite struct{ cancel func() }

func (c cancelOnWrite) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "retrying") {
		c.cancel()
	}
	return len(p), nil
}
