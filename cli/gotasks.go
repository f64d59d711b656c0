package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gotask/gotask"
	"github.com/gotask/gotask/internal/gobuild"
	"github.com/gotask/gotask/task"
)

// runGoTasks looks for a gotasks/ main package beside tasks.toml. When
// there is one, it gets the cached binary built from it, building it the
// first time or after a change. The binary embeds this CLI around the Go
// tasks, and loads tasks.toml itself.
//
// When the binary has described its tasks (see describedRegistry),
// runGoTasks sets cfg.registry to the registry described and
// cfg.goTasks to the binary, and returns handled=false: listing, help,
// completion and dry runs are answered here, and cfg.goTasks.run hands
// over to the binary before anything runs. Otherwise it replaces this
// process with the binary, run with the same arguments.
//
// It also returns handled=false when there is no gotasks/ package, or
// when there is no Go toolchain to build it with (after saying so, and
// noting it in cfg, so that the tasks.toml tasks still work).
func runGoTasks(ctx context.Context, args []string, streams *Streams, cfg *config) (handled bool, err error) {
	if globalFlag(args, "--init") {
		return false, nil // writes a file, and needs no tasks
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
	bin, built, err := b.Binary(ctx, pkg)
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
