package main

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// localBenchmarks measures gotask on this machine: start-up, commands
// each on its own pseudo-terminal, and output through a pseudo-terminal.
func localBenchmarks() []benchmark {
	const bigOutput, smallOutput = 20_000_000, 2_000_000
	return []benchmark{
		{
			name:        "local/list-50-tasks",
			target:      "≤ 2.5x /bin/true",
			ratioTarget: 2.5,
			runs:        30,
			setup: func(ctx context.Context, e *env) error {
				if err := e.writeTasks(listTasksTOML(50)); err != nil {
					return err
				}
				c := e.command(ctx, e.gotask, "-f", "tasks.toml", "-l")
				var out bytes.Buffer
				c.Stdout = &out
				if _, err := timeCmd(c); err != nil {
					return err
				}
				if n := strings.Count(out.String(), "task-"); n < 50 {
					return fmt.Errorf("gotask -l listed %d of the 50 tasks:\n%s", n, out.String())
				}
				if interp := elfInterpreter(e.gotask); interp != "" {
					e.notef("gotask is dynamically linked (%s loads libc at every start): cgo is on and a dependency imports net", interp)
				}
				return noteGoFloor(ctx, e)
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "-l")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, "/bin/true")
			},
		},
		{
			// Includes must not make listing dearer: the same 50 tasks,
			// 25 in tasks.toml and 5 in each of 5 included files.
			name:        "local/list-50-tasks-5-includes",
			target:      "≤ 1.2x plain -l of 50 tasks in one file (5 includes, 10 `sh` vars that fail if run)",
			ratioTarget: 1.2,
			runs:        30,
			setup: func(ctx context.Context, e *env) error {
				if err := e.writeTasks(listTasksTOML(50)); err != nil {
					return err
				}
				if err := writeIncludeTree(filepath.Join(e.dir, "inc"), 25, 5, 5); err != nil {
					return err
				}
				c := e.command(ctx, e.gotask, "-f", "inc/tasks.toml", "-l")
				var out bytes.Buffer
				c.Stdout = &out
				if _, err := timeCmd(c); err != nil {
					return err
				}
				if n := strings.Count(out.String(), "task-"); n < 50 {
					return fmt.Errorf("gotask -l listed %d of the 50 tasks:\n%s", n, out.String())
				}
				return nil
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "inc/tasks.toml", "-l")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "-l")
			},
		},
		{
			// gotask in a terminal, as people run it: each command gets
			// a pty of its own because gotask's stdin is a terminal.
			name:        "local/pty-100-commands",
			target:      "≤ 1.15x sh loop of 100 `sh -c true`, both in a terminal",
			ratioTarget: 1.15,
			runs:        5,
			setup:       setupHundred,
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return timeInPty(e.command(ctx, e.gotask, "-f", "tasks.toml", "hundred"))
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return timeInPty(e.command(ctx, "sh", "-c", shellLoop))
			},
		},
		{
			// pty = true with stdin on /dev/null: the cost of the
			// pseudo-terminals alone, without a user's terminal to serve.
			name:        "local/pty-100-commands-forced",
			target:      "≤ 1.15x sh loop of 100 `sh -c true`",
			ratioTarget: 1.15,
			runs:        7,
			setup: func(ctx context.Context, e *env) error {
				if err := setupHundred(ctx, e); err != nil {
					return err
				}
				return notePtyFloor(ctx, e)
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "forced")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, "sh", "-c", shellLoop)
			},
		},
		{
			// The pipes path, the default whenever stdin is not a
			// terminal (CI, cron): it must cost no more than a pty.
			name:        "local/no-pty-100-commands",
			target:      "≤ 1.1x local/pty-100-commands-forced",
			ratioTarget: 1.1,
			runs:        7,
			setup:       setupHundred,
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "--no-pty", "-f", "tasks.toml", "hundred")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "forced")
			},
		},
		{
			name:        "local/pty-20MB-output",
			target:      "≤ 1.1x `script -qc`",
			ratioTarget: 1.1,
			runs:        7,
			setup: func(ctx context.Context, e *env) error {
				if err := e.writeTasks(outputTasksTOML(bigOutput, smallOutput)); err != nil {
					return err
				}
				// Byte-exact: every byte the command wrote, and nothing else.
				c := e.command(ctx, e.gotask, "-f", "tasks.toml", "big")
				cnt := &countWriter{}
				c.Stdout = cnt
				if _, err := timeCmd(c); err != nil {
					return err
				}
				if cnt.n != bigOutput || cnt.other != 0 {
					return fmt.Errorf("gotask wrote %d bytes, %d of them not 'x'; want %d, all 'x'", cnt.n, cnt.other, bigOutput)
				}
				e.notef("byte-exact: gotask's stdout carried %d bytes, all of them the command's", cnt.n)
				return nil
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "big")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, "script", "-qc", outputCommand(bigOutput), "/dev/null")
			},
		},
		{
			// Loading is linear in the number of tasks: go-toml's own
			// decoder made it quadratic (10,000 tasks 1.3 s, 100,000 over
			// two minutes).
			name:        "local/list-10k-vs-1k-tasks",
			target:      "≤ 12x: 10,000 tasks vs 1,000 (≈10x linear, 100x quadratic)",
			ratioTarget: 12,
			runs:        7,
			setup: func(ctx context.Context, e *env) error {
				for _, n := range []int{1000, 10000} {
					name := filepath.Join(e.dir, fmt.Sprintf("tasks-%d.toml", n))
					if err := os.WriteFile(name, []byte(chainTasksTOML(n)), 0o644); err != nil {
						return err
					}
				}
				return nil
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks-10000.toml", "-l")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks-1000.toml", "-l")
			},
		},
		{
			name:        "local/pty-output-linearity",
			target:      "≤ 12x: 20 MB vs 2 MB (≈10x linear, 100x quadratic)",
			ratioTarget: 12,
			runs:        7,
			setup: func(ctx context.Context, e *env) error {
				return e.writeTasks(outputTasksTOML(bigOutput, smallOutput))
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "big")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "small")
			},
		},
	}
}

// noteGoFloor notes how two programs compare with /bin/true here: a
// static Go "hello, world", the floor under any Go program's start-up,
// and bench/proto, the bare cobra + go-toml prototype that the target was
// set against. Together they say how much of list-50-tasks' time is
// gotask's own. Without a Go toolchain it notes nothing.
func noteGoFloor(ctx context.Context, e *env) error {
	dir := filepath.Join(e.dir, "hello")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello, world\\n\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n"), 0o644); err != nil {
		return err
	}
	hello := filepath.Join(dir, "hello")
	if !buildFloor(ctx, e, dir, ".", hello) {
		return nil
	}
	proto, ok := buildProto(ctx, e, "./bench/proto")
	if !ok {
		return nil
	}
	cmds := [][]string{{"/bin/true"}, {hello}, {proto, "-f", "tasks.toml", "-l"}}
	runs := make([][]sample, len(cmds))
	for i := range 20 {
		for j := range cmds {
			k := (i + j) % len(cmds)
			smp, err := e.time(ctx, cmds[k][0], cmds[k][1:]...)
			if err != nil {
				return err
			}
			runs[k] = append(runs[k], smp)
		}
	}
	t, h, p := summarize(runs[0]), summarize(runs[1]), summarize(runs[2])
	e.notef("floor: a static Go hello, world starts in %s, %.2fx /bin/true (%s), before gotask does anything",
		formatDuration(h.median), ratio(h, t), formatDuration(t.median))
	e.notef("floor: bench/proto (cobra + go-toml listing the same file, no features) takes %s, %.2fx /bin/true",
		formatDuration(p.median), ratio(p, t))
	return nil
}

// buildFloor builds pkg in dir into out without cgo, as gotask is built.
// On failure it notes why and returns false: a floor is a note, not a
// benchmark, and its absence stops nothing.
func buildFloor(ctx context.Context, e *env, dir, pkg, out string) bool {
	build := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if msg, err := build.CombinedOutput(); err != nil {
		e.notef("no floor: go build %s failed: %v: %s", pkg, err, bytes.TrimSpace(msg))
		return false
	}
	return true
}

// buildProto builds one of gotask's bare prototypes (bench/proto,
// bench/ptyproto) into e.dir, for buildFloor's notes.
func buildProto(ctx context.Context, e *env, pkg string) (string, bool) {
	root, err := moduleRoot()
	if err != nil {
		e.notef("no floor: %v", err)
		return "", false
	}
	out := filepath.Join(e.dir, filepath.Base(pkg))
	return out, buildFloor(ctx, e, root, pkg, out)
}

// notePtyFloor notes how bench/ptyproto, 100 `sh -c true` each on a pty
// of its own with nothing but creack/pty and os/exec, compares with the
// shell loop here: the floor under local/pty-100-commands-forced.
func notePtyFloor(ctx context.Context, e *env) error {
	proto, ok := buildProto(ctx, e, "./bench/ptyproto")
	if !ok {
		return nil
	}
	var loop, bare []sample
	for range 7 {
		smp, err := e.time(ctx, "sh", "-c", shellLoop)
		if err != nil {
			return err
		}
		loop = append(loop, smp)
		if smp, err = e.time(ctx, proto, "100"); err != nil {
			return err
		}
		bare = append(bare, smp)
	}
	l, b := summarize(loop), summarize(bare)
	e.notef("floor: bench/ptyproto (pty.Open + os/exec, 100 commands, no features) takes %s, %.2fx the shell loop (%s)",
		formatDuration(b.median), ratio(b, l), formatDuration(l.median))
	return nil
}

// shellLoop is the baseline for 100 commands: a shell forking `sh -c true`.
const shellLoop = `i=0; while [ $i -lt 100 ]; do sh -c true; i=$((i+1)); done`

// setupHundred writes tasks of 100 `true` commands: hundred, which leaves
// the pty to gotask, and forced, with pty = true. It checks that both give
// their commands a terminal.
func setupHundred(ctx context.Context, e *env) error {
	run := "run = [" + strings.Repeat(`"true", `, 99) + `"true"]` + "\n"
	isatty := `run = "[ -t 0 ] && [ -t 1 ]"` + "\n"
	doc := "[tasks.hundred]\n" + run +
		"\n[tasks.forced]\npty = true\n" + run +
		"\n[tasks.isatty]\n" + isatty +
		"\n[tasks.isatty-forced]\npty = true\n" + isatty
	if err := e.writeTasks(doc); err != nil {
		return err
	}
	if _, err := timeInPty(e.command(ctx, e.gotask, "-f", "tasks.toml", "isatty")); err != nil {
		return fmt.Errorf("run in a terminal, gotask does not give its commands one: %w", err)
	}
	if _, err := e.time(ctx, e.gotask, "-f", "tasks.toml", "isatty-forced"); err != nil {
		return fmt.Errorf("a pty = true command does not see a terminal: %w", err)
	}
	return nil
}

// timeInPty runs c on a new pseudo-terminal, as if typed in a terminal
// nobody types into, and measures it as timeCmd does. Output is read and
// dropped; its tail goes into the error if c fails.
func timeInPty(c *exec.Cmd) (sample, error) {
	c.Stdin, c.Stdout, c.Stderr = nil, nil, nil
	resetPeakRSS()
	start := time.Now()
	ptmx, err := pty.StartWithSize(c, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", c, err)
	}
	defer ptmx.Close()
	tail := &tailWriter{max: 2048}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(tail, ptmx) // ends with EIO once the terminal's last user is gone
	}()
	err = c.Wait()
	select {
	case <-copied:
	case <-time.After(time.Second): // a straggler holds the terminal: stop reading
	}
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w: %s", c, err, strings.TrimSpace(string(tail.b)))
	}
	smp := sample{wall: wall, selfRSS: selfPeakRSS()}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		smp.maxRSS = rssBytes(ru)
		smp.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return smp, nil
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	b   []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = append(w.b[:0], w.b[over:]...)
	}
	return len(p), nil
}

// writeTasks writes doc to tasks.toml in e.dir.
func (e *env) writeTasks(doc string) error {
	return os.WriteFile(filepath.Join(e.dir, "tasks.toml"), []byte(doc), 0o644)
}

// outputCommand is a shell command that writes n bytes of 'x', with no
// newline for the terminal to translate.
func outputCommand(n int) string {
	return fmt.Sprintf(`head -c %d /dev/zero | tr '\0' x`, n)
}

// outputTasksTOML defines tasks big and small, which write big and small
// bytes through a pseudo-terminal.
func outputTasksTOML(big, small int) string {
	return fmt.Sprintf("[tasks.big]\npty = true\nrun = %s\n\n[tasks.small]\npty = true\nrun = %s\n",
		tomlString(outputCommand(big)), tomlString(outputCommand(small)))
}

// listTasksTOML returns a tasks.toml of n tasks, named task-01 and on,
// shaped like a real project's: help, some aliases, arguments, deps,
// environment and vars.
func listTasksTOML(n int) string {
	var b strings.Builder
	b.WriteString("default = \"task-01\"\n\n[vars]\napp = \"hello\"\nversion = \"1.2.3\"\n")
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("task-%02d", i)
		fmt.Fprintf(&b, "\n[tasks.%s]\n", name)
		fmt.Fprintf(&b, "help = %s\n", tomlString(fmt.Sprintf("Task number %d: builds, tests or ships part %d of {{.app}}", i, i)))
		if i%5 == 0 {
			fmt.Fprintf(&b, "aliases = [%s]\n", tomlString(fmt.Sprintf("t%d", i)))
		}
		if i%3 == 0 {
			b.WriteString("args = [\n" +
				"  { name = \"name\", help = \"who to greet\", default = \"world\", short = \"n\" },\n" +
				"  { name = \"times\", type = \"int\", default = 1, help = \"how many times\" },\n" +
				"]\n")
		}
		if i > 1 && i%4 == 0 {
			fmt.Fprintf(&b, "deps = [%s]\n", tomlString(fmt.Sprintf("task-%02d", i-1)))
		}
		if i%7 == 0 {
			b.WriteString("env = { CGO_ENABLED = \"0\", GOFLAGS = \"-trimpath\" }\n")
		}
		fmt.Fprintf(&b, "run = [%s, %s]\n", tomlString("echo building {{.app}} {{.version}}"), tomlString(fmt.Sprintf("test -d . && echo step %d", i)))
	}
	return b.String()
}

// writeIncludeTree writes dir/tasks.toml with top tasks and files
// included files of each tasks, shaped as listTasksTOML's.
func writeIncludeTree(dir string, top, files, each int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var inc strings.Builder
	inc.WriteString("[includes]\n")
	for i := 1; i <= files; i++ {
		ns := fmt.Sprintf("part%d", i)
		fmt.Fprintf(&inc, "%s = %s\n", ns, tomlString(ns+"/tasks.toml"))
		if err := os.MkdirAll(filepath.Join(dir, ns), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, ns, "tasks.toml"), []byte(listTasksTOML(each)), 0o644); err != nil {
			return err
		}
	}
	// Ten computed vars that fail if they ever run: -l must evaluate none.
	var vars strings.Builder
	vars.WriteString("[vars]\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&vars, "computed%d = { sh = \"echo evaluated >&2; exit 1\" }\n", i)
	}
	doc := strings.Replace(listTasksTOML(top), "[vars]\n", inc.String()+"\n"+vars.String(), 1)
	return os.WriteFile(filepath.Join(dir, "tasks.toml"), []byte(doc), 0o644)
}

// chainTasksTOML writes n tasks, each depending on the one before.
func chainTasksTOML(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[tasks.t%d]\nhelp = \"task %d\"\nrun = \"echo %d\"\n", i, i, i)
		if i > 0 {
			fmt.Fprintf(&b, "deps = [\"t%d\"]\n", i-1)
		}
	}
	return b.String()
}

// tomlString quotes s as a TOML basic string. strconv.Quote's escapes are
// TOML's for the printable text used here.
func tomlString(s string) string { return strconv.Quote(s) }

// elfInterpreter returns the dynamic loader an ELF executable asks for,
// or "" if it is static or not ELF.
func elfInterpreter(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return "a dynamic loader"
			}
			return strings.TrimRight(string(b), "\x00")
		}
	}
	return ""
}

// countWriter counts bytes, and those that are not 'x'.
type countWriter struct{ n, other int }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.other += len(p) - bytes.Count(p, []byte{'x'})
	return len(p), nil
}
