package main

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
				return nil
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "-l")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, "/bin/true")
			},
		},
		{
			name:        "local/pty-100-commands",
			target:      "≤ 1.15x sh loop of 100 `sh -c true`",
			ratioTarget: 1.15,
			runs:        7,
			setup: func(ctx context.Context, e *env) error {
				run := strings.Repeat(`"true", `, 99) + `"true"`
				doc := "[tasks.hundred]\npty = true\nrun = [" + run + "]\n\n" +
					"[tasks.isatty]\npty = true\nrun = \"[ -t 0 ] && [ -t 1 ]\"\n"
				if err := e.writeTasks(doc); err != nil {
					return err
				}
				if _, err := e.time(ctx, e.gotask, "-f", "tasks.toml", "isatty"); err != nil {
					return fmt.Errorf("a pty = true command does not see a terminal: %w", err)
				}
				return nil
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "hundred")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, "sh", "-c", `i=0; while [ $i -lt 100 ]; do sh -c true; i=$((i+1)); done`)
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
