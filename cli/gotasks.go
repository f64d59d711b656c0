package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/gotask/gotask"
	"github.com/gotask/gotask/internal/gobuild"
	"github.com/gotask/gotask/task"
)

// runGoTasks looks for a gotasks/ main package beside tasks.toml (or on
// its own). When there is one, it gets the cached binary built from it,
// building it, against the copy of gotask's source this binary carries,
// the first time or after a change. The binary embeds this CLI around the
// Go tasks, and loads tasks.toml itself.
//
// Go tasks never built in this cache are not built yet: runGoTasks sets
// cfg.pending, and rootRun builds them only when a task needs them.
//
// When the binary has described its tasks (see describedRegistry),
// runGoTasks sets cfg.registry to the registry described and
// cfg.goTasks to the binary, and returns handled=false: listing, help,
// completion and dry runs are answered here, and cfg.goTasks.run hands
// over to the binary before anything runs. Otherwise it replaces this
// process with the binary, run with the same arguments.
//
// It also returns handled=false when there is no gotasks/ package, or
// when it cannot be built (no Go toolchain, a compile error, a dependency
// missing offline): after saying so, and noting it in cfg, so that the
// tasks.toml tasks still work.
func runGoTasks(ctx context.Context, args []string, streams *Streams, cfg *config) (handled bool, err error) {
	if globalFlag(args, "--init") {
		return false, nil // writes a file, and needs no tasks
	}
	if globalFlag(args, "-g") || globalFlag(args, "--global") {
		return false, nil // the global tasks file has no Go tasks
	}
	dir := tasksDir(args)
	if dir == "" {
		return false, nil
	}
	pkg, ok := gobuild.Find(dir)
	if !ok {
		return false, nil
	}
	b := &gobuild.Builder{
		CacheDir:    os.Getenv("GOTASK_CACHE"),
		Stderr:      streams.ErrOut,
		Gotask:      gotask.Source(),
		GotaskStamp: executableStamp(),
	}
	var (
		bin   string
		built bool
	)
	if hasTasksFile(args, dir) && !b.BuiltBefore(pkg) {
		// Go tasks nobody has built here yet (a fresh clone, a cold
		// machine) are built only when a task needs them: listing and
		// running the tasks.toml tasks does not wait for a build.
		bin, err = b.Cached(ctx, pkg)
		if err == nil && bin == "" {
			cfg.pending = &pendingGoTasks{builder: b, pkg: pkg, args: args}
			cfg.goTasksLeftOut = true
			return false, nil
		}
	}
	if bin == "" {
		bin, built, err = b.Binary(ctx, pkg)
	}
	if err != nil {
		if ctx.Err() != nil {
			return true, err
		}
		// Whatever stops the Go tasks from building (no toolchain, a
		// compile error, whose messages have already been shown, a
		// dependency missing offline), the tasks.toml tasks still work.
		fmt.Fprintf(streams.ErrOut, "gotask: warning: the Go tasks in %s are left out: %v\n", relative(pkg), err)
		cfg.goTasksLeftOut = true
		return false, nil
	}
	if built {
		fmt.Fprintf(streams.ErrOut, "gotask: built the Go tasks in %s\n", relative(pkg))
	}
	g := &goTasks{bin: bin, argv: append([]string{filepath.Join(pkg, "gotasks")}, args...)}
	if reg, err := describedRegistry(ctx, bin); err == nil {
		cfg.registry, cfg.goTasks = reg, g
		return false, nil
	}
	return true, g.run()
}

// goTasks is the binary built from a gotasks/ package, and how to run it.
type goTasks struct {
	bin  string
	argv []string // argv[0] names the package, for ps and error messages
}

// run replaces this process with the Go tasks binary; it returns only if
// that fails. On a nil *goTasks, with no binary to hand over to, it does
// nothing and returns nil.
func (g *goTasks) run() error {
	if g == nil {
		return nil
	}
	err := syscall.Exec(g.bin, g.argv, os.Environ())
	return fmt.Errorf("run the Go tasks binary %s: %w", g.bin, err)
}

// pendingGoTasks are Go tasks not built yet, to be built only when a
// task needs them.
type pendingGoTasks struct {
	builder *gobuild.Builder
	pkg     string   // the gotasks directory
	args    []string // gotask's arguments, for the binary
}

// buildAndRun builds the Go tasks and hands over to their binary, which
// answers args; it returns only on failure. When they cannot be built, it
// warns, and returns orig: what gotask would have said without them. On
// a nil *pendingGoTasks it returns orig.
func (p *pendingGoTasks) buildAndRun(ctx context.Context, streams *Streams, orig error) error {
	if p == nil {
		return orig
	}
	bin, built, err := p.builder.Binary(ctx, p.pkg)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		fmt.Fprintf(streams.ErrOut, "gotask: warning: the Go tasks in %s are left out: %v\n", relative(p.pkg), err)
		return orig
	}
	if built {
		fmt.Fprintf(streams.ErrOut, "gotask: built the Go tasks in %s\n", relative(p.pkg))
	}
	g := &goTasks{bin: bin, argv: append([]string{filepath.Join(p.pkg, "gotasks")}, p.args...)}
	return g.run()
}

// noteUnlisted says, after a list, that the pending Go tasks are not in
// it. On a nil *pendingGoTasks it says nothing.
func (p *pendingGoTasks) noteUnlisted(s *Streams) {
	if p == nil {
		return
	}
	fmt.Fprintf(s.ErrOut, "gotask: the Go tasks in %s are not built yet, so not listed; naming a task that is not in %s builds them, and -l lists them from then on\n",
		relative(p.pkg), task.FileName)
}

// missingTask returns an error naming a task that calls, or what they
// depend on, call or run after, need and reg does not have; nil if
// there is none.
func missingTask(reg *task.Registry, calls []task.Call) error {
	type need struct{ name, by string }
	seen := make(map[string]bool)
	var queue []need
	for _, c := range calls {
		queue = append(queue, need{c.Name, ""})
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n.name] {
			continue
		}
		seen[n.name] = true
		t, ok := reg.Lookup(n.name)
		if !ok {
			return &UsageError{Msg: fmt.Sprintf("task %q needs task %q, which is not in %s and not among the Go tasks", n.by, n.name, task.FileName)}
		}
		for _, d := range slices.Concat(t.Deps, t.Post) {
			queue = append(queue, need{d, t.Name})
		}
		for _, st := range t.Steps {
			if st.Task != "" {
				queue = append(queue, need{st.Task, t.Name})
			}
		}
	}
	return nil
}

// hasTasksFile reports whether args name a tasks file with -f, or dir
// holds a tasks.toml.
func hasTasksFile(args []string, dir string) bool {
	if tasksFileFlag(args) {
		return true
	}
	fi, err := os.Stat(filepath.Join(dir, task.FileName))
	return err == nil && !fi.IsDir()
}

// tasksFileFlag reports whether gotask's own flags in args name a tasks
// file.
func tasksFileFlag(args []string) bool {
	for _, a := range args {
		switch {
		case a == "-f" || a == "--file" || strings.HasPrefix(a, "--file=") || len(a) > 2 && a[:2] == "-f" && a[2] != '-':
			return true
		case a == "--" || !strings.HasPrefix(a, "-"):
			return false
		}
	}
	return false
}

// globalFlag reports whether flag is among gotask's own flags in args,
// before the first task name.
func globalFlag(args []string, flag string) bool {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == flag:
			return true
		case a == "-f" || a == "--file":
			i++
		case a == "--" || !strings.HasPrefix(a, "-"):
			return false
		}
	}
	return false
}

// executableStamp names the running binary by its path, size and
// modification time, or returns "" when it cannot.
func executableStamp() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s\x00%d\x00%d", exe, fi.Size(), fi.ModTime().UnixNano())
}

// findProject looks in dir, then in each of its parents, for a tasks.toml
// or a gotasks/ main package, and returns the first directory holding
// either, and the path of its tasks.toml if it has one.
func findProject(dir string) (root, tasksFile string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		p := filepath.Join(d, task.FileName)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return d, p, nil
		}
		if _, ok := gobuild.Find(d); ok {
			return d, "", nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", "", fmt.Errorf("no %s (or %s/ package) in %s or any parent directory; create one with `gotask --init`, or name one with -f FILE",
		task.FileName, gobuild.DirName, abs)
}

// tasksDir is the directory of the tasks file the arguments name with
// -f, or of the tasks.toml or gotasks/ package found from the working
// directory; "" if none.
func tasksDir(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			i = len(args)
		case (a == "-f" || a == "--file") && i+1 < len(args):
			return filepath.Dir(args[i+1])
		case len(a) > 7 && a[:7] == "--file=":
			return filepath.Dir(a[7:])
		case len(a) > 2 && a[:2] == "-f" && a[2] != '-':
			return filepath.Dir(a[2:])
		case a == "" || a[0] != '-':
			i = len(args) // a task name: the rest are task flags
		}
	}
	root, _, err := findProject(".")
	if err != nil {
		return ""
	}
	return root
}
