package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// gotasksAllowance is what DESIGN.md allows a cached gotasks/ binary to
// add to gotask -l: finding the package, hashing its sources and reading
// the description of its tasks (or exec'ing the binary, when there is
// none gotask can use).
const gotasksAllowance = 3 * time.Millisecond

// gotasksBenchmarks measures gotask -l in a project with Go tasks in
// gotasks/, whose binary is already in the cache, against gotask -l on
// the same tasks.toml with no gotasks/. The target is absolute, so the
// baseline carries the allowance: a ratio ≤ 1 means the difference of
// the medians is within it, and a note gives the difference itself.
func gotasksBenchmarks() []benchmark {
	d := &medianDiff{}
	return []benchmark{
		{
			name:        "gotasks/list-cached",
			target:      fmt.Sprintf("≤ 1x plain `gotask -l` + %d ms (in the baseline column)", gotasksAllowance/time.Millisecond),
			ratioTarget: 1,
			runs:        30,
			setup: func(ctx context.Context, e *env) error {
				if err := setupGotasks(ctx, e); err != nil {
					return err
				}
				d.note = len(e.notes)
				e.notef("(the difference of the medians is noted here after the runs)")
				return nil
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				c := e.command(ctx, e.gotask, "-l")
				c.Dir = filepath.Join(e.dir, "with")
				c.Env = gotasksEnv(filepath.Join(e.dir, "cache"))
				smp, err := timeCmd(c)
				if err != nil {
					return smp, err
				}
				if stderr := c.Stderr.(*bytes.Buffer).String(); stderr != "" {
					return smp, fmt.Errorf("gotask -l with gotasks/ said %q: the cached binary was not used as it was", stderr)
				}
				d.add(e, &d.cand, smp.wall)
				return smp, nil
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				c := e.command(ctx, e.gotask, "-l")
				c.Dir = filepath.Join(e.dir, "plain")
				c.Env = gotasksEnv(filepath.Join(e.dir, "cache"))
				smp, err := timeCmd(c)
				if err != nil {
					return smp, err
				}
				d.add(e, &d.base, smp.wall)
				smp.wall += gotasksAllowance
				return smp, nil
			},
		},
	}
}

// medianDiff keeps the runs of both sides of gotasks/list-cached, and the
// note that states the difference of their medians.
type medianDiff struct {
	note       int             // index in env.notes
	cand, base []time.Duration // the first of each is measure's warm-up
}

// add records one run and rewrites the note.
func (d *medianDiff) add(e *env, side *[]time.Duration, wall time.Duration) {
	*side = append(*side, wall)
	if len(d.cand) < 2 || len(d.base) < 2 || d.note >= len(e.notes) {
		return
	}
	mid := func(runs []time.Duration) time.Duration {
		s := slices.Clone(runs[1:])
		slices.Sort(s)
		if n := len(s); n%2 == 0 {
			return (s[n/2-1] + s[n/2]) / 2
		}
		return s[len(s)/2]
	}
	c, b := mid(d.cand), mid(d.base)
	verdict := "PASS"
	if c-b > gotasksAllowance {
		verdict = "MISS"
	}
	e.notes[d.note] = fmt.Sprintf("with gotasks/ %s, without %s: %+.2f ms (target < %d ms): %s",
		formatDuration(c), formatDuration(b), float64(c-b)/float64(time.Millisecond), gotasksAllowance/time.Millisecond, verdict)
}

// gotasksEnv is the environment of every gotask run: a Go tasks cache of
// the benchmark's own, and a go build that stays offline.
func gotasksEnv(cache string) []string {
	return append(os.Environ(),
		"GOTASK_CACHE="+cache,
		"GOPROXY=off",
		"GOFLAGS=-mod=mod",
	)
}

// gotasksMain is the gotasks/ package: two tasks in Go.
const gotasksMain = `package main

import (
	"context"
	"fmt"
	"os"

	"github.com/gotask/gotask/cli"
	"github.com/gotask/gotask/task"
)

func main() {
	reg := task.NewRegistry()
	reg.MustAdd(task.Task{
		Name: "gogreet",
		Help: "Say hello from Go",
		Func: func(ctx context.Context, j *task.Job) error {
			_, err := fmt.Fprintln(j.Stdout(), "hello from Go")
			return err
		},
	})
	reg.MustAdd(task.Task{
		Name: "golog",
		Help: "Log that it ran, from Go",
		Deps: []string{"task-01"},
		Func: func(ctx context.Context, j *task.Job) error {
			_, err := j.Run(ctx, "echo golog >> log")
			return err
		},
	})
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Std(), cli.WithRegistry(reg)))
}
`

// setupGotasks makes, in e.dir:
//
//   - module/, a snapshot of the gotask module's Go files, so that the
//     edits others make to the tree while this runs do not change the
//     cache key and rebuild;
//   - with/, a module whose go.mod replaces github.com/gotask/gotask with
//     module/, with the tasks.toml of local/list-50-tasks and gotasks/;
//   - plain/, the same tasks.toml alone.
//
// It builds the Go tasks once with a cache of its own to warm Go's build
// cache, then once more into an empty GOTASK_CACHE, and notes how long
// that took; then checks that the next run lists every task, from the
// cache.
func setupGotasks(ctx context.Context, e *env) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	mod := filepath.Join(e.dir, "module")
	if err := snapshotModule(root, mod); err != nil {
		return fmt.Errorf("copying the gotask module: %w", err)
	}
	with, plain := filepath.Join(e.dir, "with"), filepath.Join(e.dir, "plain")
	for _, dir := range []string{filepath.Join(with, "gotasks"), plain} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	tasks := []byte(listTasksTOML(50))
	files := map[string][]byte{
		filepath.Join(with, "tasks.toml"):         tasks,
		filepath.Join(plain, "tasks.toml"):        tasks,
		filepath.Join(with, "gotasks", "main.go"): []byte(gotasksMain),
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return err
		}
		files[filepath.Join(with, name)] = data
	}
	for name, data := range files {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return err
		}
	}
	edit := e.command(ctx, "go", "mod", "edit", "-module=example.com/benchtasks",
		"-droptool=honnef.co/go/tools/cmd/staticcheck",
		"-require=github.com/gotask/gotask@v0.0.0", "-replace=github.com/gotask/gotask="+mod)
	edit.Dir = with
	if _, err := timeCmd(edit); err != nil {
		return err
	}

	gotask := func(cache string, args ...string) (stdout, stderr string, smp sample, err error) {
		c := e.command(ctx, e.gotask, args...)
		c.Dir = with
		c.Env = gotasksEnv(cache)
		var out bytes.Buffer
		c.Stdout = &out
		smp, err = timeCmd(c)
		return out.String(), c.Stderr.(*bytes.Buffer).String(), smp, err
	}
	// Go tasks are built the first time one of them is named (-l alone
	// lists tasks.toml's until then).
	if _, _, _, err := gotask(filepath.Join(e.dir, "cache-warm-up"), "gogreet"); err != nil {
		return fmt.Errorf("building the Go tasks: %w", err)
	}
	_, stderr, smp, err := gotask(filepath.Join(e.dir, "cache"), "gogreet")
	if err != nil {
		return fmt.Errorf("building the Go tasks: %w", err)
	}
	if !strings.Contains(stderr, "built the Go tasks") {
		return fmt.Errorf("gotask gogreet with an empty GOTASK_CACHE did not build the Go tasks; stderr %q", stderr)
	}
	e.notef("first run, empty GOTASK_CACHE, warm Go build cache: gotask gogreet built the Go tasks and ran one in %s", formatDuration(smp.wall))
	stdout, stderr, _, err := gotask(filepath.Join(e.dir, "cache"), "-l")
	if err != nil {
		return err
	}
	if stderr != "" {
		return fmt.Errorf("the second gotask -l with gotasks/ said %q; want the cached binary, silently", stderr)
	}
	for _, want := range []string{"gogreet", "golog", "task-01", "task-50"} {
		if !strings.Contains(stdout, want) {
			return fmt.Errorf("gotask -l with gotasks/ does not list %s:\n%s", want, stdout)
		}
	}
	return nil
}

// snapshotModule copies go.mod, go.sum and the Go files, tests and
// testdata aside, of the module at root to dst.
func snapshotModule(root, dst string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || !(rel == "go.mod" || rel == "go.sum" || strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}
