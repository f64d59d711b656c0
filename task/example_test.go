package task_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gotask/gotask/runner/local"
	"github.com/gotask/gotask/task"
)

// A task written in Go reads its typed arguments from its Job and runs
// shell commands through it; values are quoted with task.Quote.
func ExampleRegistry_MustAdd() {
	reg := task.NewRegistry()
	reg.MustAdd(task.Task{
		Name: "greet",
		Help: "Greet someone",
		Args: []task.Arg{
			{Name: "name", Required: true},
			{Name: "times", Type: task.Int, Default: 1},
		},
		Func: func(ctx context.Context, j *task.Job) error {
			for i := range j.Int("times") {
				cmd := fmt.Sprintf("echo %d: Hello, %s", i+1, task.Quote(j.String("name")))
				if _, err := j.Run(ctx, cmd); err != nil {
					return err
				}
			}
			return nil
		},
	})

	e := &task.Executor{Registry: reg, Local: local.New(), Stdout: os.Stdout}
	err := e.Run(context.Background(), task.Call{
		Name: "greet",
		Args: map[string]string{"name": "Ada; rm -rf ~", "times": "2"},
	})
	fmt.Println("error:", err)
	// Output:
	// 1: Hello, Ada; rm -rf ~
	// 2: Hello, Ada; rm -rf ~
	// error: <nil>
}

// Load reads tasks.toml; mistakes are reported with their position.
func ExampleRegistry_LoadBytes() {
	reg := task.NewRegistry()
	err := reg.LoadBytes("tasks.toml", []byte(`
[tasks.build]
run = "go build"
dep = ["generate"]
`))
	fmt.Println(err)
	// Output:
	// tasks.toml:4:1: unknown key "dep" in task "build"
}

// A task can call another with arguments, as on the command line.
func ExampleJob_Task() {
	reg := task.NewRegistry()
	reg.MustAdd(task.Task{
		Name: "shout",
		Args: []task.Arg{{Name: "word"}},
		Func: func(_ context.Context, j *task.Job) error {
			fmt.Fprintln(j.Stdout(), strings.ToUpper(j.String("word")))
			return nil
		},
	})
	reg.MustAdd(task.Task{
		Name: "hello",
		Func: func(ctx context.Context, j *task.Job) error {
			return j.Task(ctx, "shout", map[string]string{"word": "hello"})
		},
	})
	e := &task.Executor{Registry: reg, Local: local.New(), Stdout: os.Stdout}
	if err := e.Run(context.Background(), task.Call{Name: "hello"}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// HELLO
}
