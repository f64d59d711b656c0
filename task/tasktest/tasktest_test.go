package tasktest_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/task"
	"github.com/gotask/gotask/task/tasktest"
)

// restart is a Go task as a user would write one: it reads its
// arguments, probes, and acts on what the probe said.
func restart(ctx context.Context, j *task.Job) error {
	res, err := j.Run(ctx, "systemctl is-active "+task.Quote(j.String("unit")), task.Hide(), task.Warn())
	if err != nil {
		return err
	}
	if res.ExitCode == 0 && !j.Bool("force") {
		fmt.Fprintf(j.Stdout(), "%s is running on %s\n", j.String("unit"), j.Host())
		return nil
	}
	if _, err := j.Sudo(ctx, "systemctl restart "+task.Quote(j.String("unit")), task.InDir("/srv"), task.WithEnv("MODE", j.Var("mode"))); err != nil {
		return err
	}
	_, err = j.Local(ctx, "echo restarted >> log")
	return err
}

var restartTask = task.Task{
	Name: "restart",
	Args: []task.Arg{{Name: "unit", Required: true}, {Name: "force", Type: task.Bool}},
	Func: restart,
}

func TestJobRecordsWhatTheTaskRan(t *testing.T) {
	j, err := tasktest.New(restartTask, tasktest.Config{
		Args: map[string]string{"unit": "my app"},
		Host: "web1",
		Vars: map[string]string{"mode": "blue"},
		Results: map[string]tasktest.Result{
			"systemctl is-active 'my app'": {Stdout: "inactive\n", ExitCode: 3},
			"systemctl restart 'my app'":   {},
			"echo restarted >> log":        {Stdout: "ok\n"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := restart(t.Context(), j.Job); err != nil {
		t.Fatalf("restart: %v", err)
	}
	want := []task.Command{
		{Line: "systemctl is-active 'my app'", Host: "web1", Hide: true, Warn: true},
		{Line: "systemctl restart 'my app'", Host: "web1", Sudo: "root", Dir: "/srv", Env: map[string]string{"MODE": "blue"}},
		{Line: "echo restarted >> log", Host: "web1", Local: true},
	}
	got := j.Commands()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("commands:\n got %+v\nwant %+v", got, want)
	}
	if out := j.Output(); out != "ok\n" {
		t.Errorf("Output() = %q, want only the unhidden command's %q", out, "ok\n")
	}
	if e := j.Errors(); e != "" {
		t.Errorf("Errors() = %q: Warn()+Hide() is the task's own business, no warning", e)
	}
}

func TestJobArgumentsAndVars(t *testing.T) {
	j, err := tasktest.New(restartTask, tasktest.Config{
		Args:    map[string]string{"unit": "app", "force": "true"},
		Results: map[string]tasktest.Result{"systemctl is-active app": {}, "systemctl restart app": {}, "echo restarted >> log": {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := restart(t.Context(), j.Job); err != nil {
		t.Fatal(err)
	}
	if got := j.Lines(); len(got) != 3 {
		t.Errorf("--force on a running unit ran %q, want the restart too", got)
	}
	if _, err := tasktest.New(restartTask, tasktest.Config{}); !errors.As(err, new(*task.ArgError)) {
		t.Errorf("New without the required --unit: %v, want an *task.ArgError", err)
	}
	if _, err := tasktest.New(restartTask, tasktest.Config{Args: map[string]string{"unit": "a", "force": "maybe"}}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("New with --force maybe: %v, want an error naming --force", err)
	}
	if _, err := tasktest.New(task.Task{Name: "bad name"}, tasktest.Config{}); err == nil {
		t.Error("New accepted a task Registry.Add refuses")
	}
}

func TestJobFailures(t *testing.T) {
	t.Run("a command with no scripted result fails, named, even under Warn", func(t *testing.T) {
		// The probe runs with Warn(): were the missing result warned
		// away, the task would go on to the scripted restart and pass.
		j, err := tasktest.New(restartTask, tasktest.Config{
			Args:    map[string]string{"unit": "app"},
			Results: map[string]tasktest.Result{"systemctl restart app": {}, "echo restarted >> log": {}},
		})
		if err != nil {
			t.Fatal(err)
		}
		err = restart(t.Context(), j.Job)
		if err == nil || !strings.Contains(err.Error(), `no result scripted for "systemctl is-active app"`) {
			t.Fatalf("restart = %v, want the unscripted command named", err)
		}
		if got := j.Lines(); !slices.Equal(got, []string{"systemctl is-active app"}) {
			t.Errorf("ran %q", got)
		}
	})
	t.Run("a non-zero exit is an ExitError naming task and host", func(t *testing.T) {
		j, err := tasktest.New(restartTask, tasktest.Config{
			Args: map[string]string{"unit": "app"}, Host: "web2",
			Results: map[string]tasktest.Result{
				"systemctl is-active app": {ExitCode: 3},
				"systemctl restart app":   {Stderr: "Failed to restart app\n", ExitCode: 5},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		err = restart(t.Context(), j.Job)
		var ee *runner.ExitError
		var te *task.TaskError
		if !errors.As(err, &ee) || ee.Code != 5 || !errors.As(err, &te) || te.Task != "restart" || te.Host != "web2" {
			t.Fatalf("restart = %#v, want exit 5 of task restart on web2", err)
		}
		if got := j.Errors(); got != "Failed to restart app\n" {
			t.Errorf("Errors() = %q", got)
		}
	})
	t.Run("retries apply as in a run", func(t *testing.T) {
		flaky := task.Task{Name: "flaky", Retries: 2, Func: func(ctx context.Context, j *task.Job) error {
			_, err := j.Run(ctx, "curl -f http://example.com/health")
			return err
		}}
		j, err := tasktest.New(flaky, tasktest.Config{Results: map[string]tasktest.Result{"curl -f http://example.com/health": {ExitCode: 22}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := flaky.Func(t.Context(), j.Job); err == nil {
			t.Fatal("a failing command passed")
		}
		if n := len(j.Lines()); n != 3 {
			t.Errorf("ran %d times, want 1 + 2 retries", n)
		}
	})
	t.Run("put and get copy nothing, and say so", func(t *testing.T) {
		j, err := tasktest.New(task.Task{Name: "up"}, tasktest.Config{Host: "web1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Put(t.Context(), "a", "b", 0o644); err == nil || !strings.Contains(err.Error(), "copies no files") {
			t.Errorf("Put = %v, want an error saying the job copies no files", err)
		}
	})
}

// A Go task is tested by calling its function with a tasktest Job.
func ExampleNew() {
	hello := task.Task{
		Name: "hello",
		Args: []task.Arg{{Name: "name", Default: "world"}},
		Func: func(ctx context.Context, j *task.Job) error {
			res, err := j.Run(ctx, "whoami", task.Hide())
			if err != nil {
				return err
			}
			fmt.Fprintf(j.Stdout(), "hello %s, from %s", j.String("name"), res.Stdout)
			return nil
		},
	}
	j, err := tasktest.New(hello, tasktest.Config{
		Args:    map[string]string{"name": "Ada"},
		Results: map[string]tasktest.Result{"whoami": {Stdout: "deploy\n"}},
	})
	if err != nil {
		panic(err)
	}
	if err := hello.Func(context.Background(), j.Job); err != nil {
		panic(err)
	}
	fmt.Printf("ran %q\n", j.Lines())
	fmt.Print(j.Output())
	// Output:
	// ran ["whoami"]
	// hello Ada, from deploy
}
