package task

import (
	"context"
	"runtime"
	"sync"
)

type onceResult struct {
	done chan struct{}
	err  error
}

// runTask runs t's deps, t itself and its post tasks.
func (e *execution) runTask(ctx context.Context, t *Task, args map[string]any) error {
	return e.runTaskOn(ctx, t, args, nil)
}

// runTaskOn is runTask with the task's hosts replaced by hosts, if any.
func (e *execution) runTaskOn(ctx context.Context, t *Task, args map[string]any, hosts []string) error {
	targets, err := e.targets(t, hosts)
	if err != nil {
		return err
	}
	if ok, err := e.taskIf(ctx, t, args, len(targets) > 0); err != nil || !ok {
		return err
	}
	if _, checked := e.preChecked.Load(t); !checked && len(t.Preconditions) > 0 {
		if err := e.preconditions(ctx, t, args); err != nil {
			return err
		}
	}
	if err := e.askConfirm(t); err != nil {
		return err
	}
	if err := e.runOnce(ctx, t.Deps); err != nil {
		return err
	}
	if err := e.body(ctx, t, args, targets); err != nil {
		return err
	}
	return e.runOnce(ctx, t.Post)
}

// runOnce runs the named tasks, with their default arguments, each at
// most once per run; several of them run at the same time, bounded
// by Jobs.
func (e *execution) runOnce(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	if len(names) == 1 {
		return e.runDep(ctx, names[0], false)
	}
	jobs := e.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, jobs)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = e.runDep(ctx, name, true)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *execution) runDep(ctx context.Context, name string, concurrent bool) error {
	t, err := e.Registry.Resolve(name)
	if err != nil {
		return err
	}
	fresh := &onceResult{done: make(chan struct{})}
	v, loaded := e.once.LoadOrStore(t.Name, fresh)
	r := v.(*onceResult)
	if loaded {
		select {
		case <-r.done:
			return r.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(r.done)
	args, err := t.ParseArgs(nil)
	if err != nil {
		r.err = err
		return err
	}
	if concurrent {
		ctx = withConcurrent(ctx)
	}
	r.err = e.runTask(ctx, t, args)
	return r.err
}

type concurrentKey struct{}

// withConcurrent marks ctx as running beside other tasks: such commands
// get no stdin and no terminal, and their output is written whole lines
// at a time.
func withConcurrent(ctx context.Context) context.Context {
	return context.WithValue(ctx, concurrentKey{}, true)
}

func isConcurrent(ctx context.Context) bool {
	v, _ := ctx.Value(concurrentKey{}).(bool)
	return v
}
