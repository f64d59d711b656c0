package cli_test

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/gotask/gotask/cli"
	"github.com/gotask/gotask/task"
)

// runMain runs the CLI in-process with buffers for streams and no
// terminal. It passes a registry so that Main does not build and exec the
// Go tasks of examples/gotasks: only the tasks.toml side is under test.
func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(t.Context(), args, &cli.Streams{Out: &out, ErrOut: &errOut}, cli.WithRegistry(task.NewRegistry()))
	return out.String(), errOut.String(), code
}

// The example file in the repository must keep working: its tasks list,
// and the day-one task runs.
func TestExampleTasksFile(t *testing.T) {
	const file = "../examples/tasks.toml"

	t.Run("mytime", func(t *testing.T) {
		stdout, stderr, code := runMain(t, "-f", file, "mytime")
		if code != 0 || stderr != "" {
			t.Fatalf("gotask mytime: exit %d, stderr %q", code, stderr)
		}
		if !regexp.MustCompile(`\ALocal time is \S.*\d\n\z`).MatchString(stdout) {
			t.Errorf("gotask mytime printed %q, want one line \"Local time is ...\"", stdout)
		}
	})

	t.Run("alias", func(t *testing.T) {
		stdout, _, code := runMain(t, "-f", file, "time")
		if code != 0 || !regexp.MustCompile(`\ALocal time is `).MatchString(stdout) {
			t.Fatalf("gotask time: exit %d, stdout %q", code, stdout)
		}
	})

	t.Run("list", func(t *testing.T) {
		stdout, stderr, code := runMain(t, "-f", file, "-l")
		if code != 0 || stderr != "" {
			t.Fatalf("gotask -l: exit %d, stderr %q", code, stderr)
		}
		for _, want := range []string{
			`(?m)^  mytime \(time\) +Print the local time \(default\)$`,
			`(?m)^  greet +Greet someone, a number of times$`,
			`(?m)^  build +`,
			`(?m)^web \(\.\./examples/web/tasks\.toml\):\n  web:assets +Compress each stylesheet`,
		} {
			if !regexp.MustCompile(want).MatchString(stdout) {
				t.Errorf("gotask -l output does not match %s:\n%s", want, stdout)
			}
		}
		if regexp.MustCompile(`(?m)^  report`).MatchString(stdout) {
			t.Errorf("gotask -l lists the hidden task report:\n%s", stdout)
		}
	})

	t.Run("greet quotes its argument", func(t *testing.T) {
		dir := t.TempDir()
		stdout, stderr, code := runMain(t, "-f", file, "greet", "--name", "$(touch "+dir+"/pwned)", "--times", "2")
		if code != 0 {
			t.Fatalf("gotask greet: exit %d, stderr %q", code, stderr)
		}
		want := "Hello, $(touch " + dir + "/pwned)!\n"
		if stdout != want+want {
			t.Errorf("gotask greet printed %q, want %q twice", stdout, want)
		}
	})

	t.Run("included tasks loop", func(t *testing.T) {
		stdout, stderr, code := runMain(t, "-f", file, "web:assets")
		if code != 0 {
			t.Fatalf("gotask web:assets: exit %d, stderr %q", code, stderr)
		}
		for _, want := range []string{
			`(?m)^\[site\.css\]  compressing site\.css in web$`,
			`(?m)^\[print\.css\] compressing print\.css in web$`,
			`(?m)^\[dark\.css\]  compressing dark\.css in web$`,
			`(?m)^page: index\npage: about\n\z`,
		} {
			if !regexp.MustCompile(want).MatchString(stdout) {
				t.Errorf("gotask web:assets output does not match %s:\n%s", want, stdout)
			}
		}
	})

	t.Run("version uses a computed var and a captured value", func(t *testing.T) {
		stdout, stderr, code := runMain(t, "-f", file, "version")
		if code != 0 || !regexp.MustCompile(`(?m)^gotask \S+ on \S+$`).MatchString(stdout) {
			t.Fatalf("gotask version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		stdout, _, code = runMain(t, "-f", file, "version", "--var", "version=$(touch pwned)")
		if code != 0 || !regexp.MustCompile(`(?m)^gotask \$\(touch pwned\) on \S+$`).MatchString(stdout) {
			t.Fatalf("gotask version --var: exit %d, stdout %q", code, stdout)
		}
	})

	t.Run("fail passes its exit status through", func(t *testing.T) {
		_, stderr, code := runMain(t, "-f", file, "fail")
		if code != 3 {
			t.Errorf("gotask fail: exit %d, want 3 (stderr %q)", code, stderr)
		}
	})
}
