// Package task is gotask's domain: tasks, their typed arguments and
// steps, the Registry that resolves names, the tasks.toml loader (Load)
// and the Executor that runs a task's dependencies, steps and post tasks
// through a runner.Runner.
//
// Tasks come from tasks.toml or from Go code; both kinds live in one
// Registry, list together and may depend on each other:
//
//	reg := task.NewRegistry()
//	reg.MustAdd(task.Task{
//		Name: "mytime",
//		Help: "Print the local time",
//		Func: func(ctx context.Context, j *task.Job) error {
//			_, err := j.Run(ctx, "date '+Local time is %c'")
//			return err
//		},
//	})
//
// A Go task's function gets a *Job: its arguments, and Run, Sudo, Local,
// Put and Get where it runs. Package task/tasktest makes a Job outside an
// Executor, for unit tests of Go tasks.
//
// The package never imports a concrete runner: package cli wires the
// local and remote runners into an Executor.
package task
