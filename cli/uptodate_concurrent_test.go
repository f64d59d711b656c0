package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two gotask processes that run the same task at the same time both
// succeed, and what they leave in .gotask is always a whole record, which
// the next run reads and trusts.
func TestUpToDateConcurrentRuns(t *testing.T) {
	bin := gotaskBinary(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tasks.toml"), `[tasks.build]
sources = ["src/**"]
generates = ["out"]
run = ["echo run >> runs", "cat src/* > out"]
`)
	const upToDate = "gotask: task build is up to date\n"

	// A new source each round: both find the task out of date (unless
	// one records it before the other checks), run it and record it.
	for i := range 20 {
		writeFile(t, filepath.Join(dir, "src", fmt.Sprintf("%02d.txt", i)), strings.Repeat("source\n", 1000*i))
		for j, out := range runTwice(t, bin, dir, "build") {
			if out != "" && out != upToDate {
				t.Fatalf("round %d: gotask build %d printed %q", i, j, out)
			}
		}
		out, err := gotask(t, bin, dir, "--status", "build")
		if err != nil || out != "task build is up to date\n" {
			t.Fatalf("round %d: after two concurrent runs, gotask --status build: %v, output:\n%s", i, err, out)
		}
	}

	// A source touched each round, not changed: both read it again and
	// rewrite the record with its new times, while the other may be
	// reading the record. Neither may ever find it torn and run the task.
	runs, err := os.ReadFile(filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		when := time.Unix(1_000_000_000+int64(i), 0)
		if err := os.Chtimes(filepath.Join(dir, "src", "01.txt"), when, when); err != nil {
			t.Fatal(err)
		}
		for j, out := range runTwice(t, bin, dir, "build") {
			if out != upToDate {
				t.Fatalf("touch round %d: gotask build %d printed %q, want %q", i, j, out, upToDate)
			}
		}
	}
	if after, err := os.ReadFile(filepath.Join(dir, "runs")); err != nil || !bytes.Equal(after, runs) {
		t.Errorf("touching a source made the task run: runs went from %q to %q (%v)", runs, after, err)
	}

	entries, err := os.ReadDir(filepath.Join(dir, ".gotask"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || strings.HasSuffix(names[0], ".tmp") {
		t.Errorf(".gotask holds %q, want one state file for the one task", names)
	}
}

// runTwice starts two gotask processes with args in dir at once, and
// returns what each printed once both have exited 0.
func runTwice(t *testing.T, bin, dir string, args ...string) [2]string {
	t.Helper()
	var (
		cmds [2]*exec.Cmd
		outs [2]bytes.Buffer
	)
	for j := range cmds {
		cmds[j] = exec.CommandContext(t.Context(), bin, args...)
		cmds[j].Dir = dir
		cmds[j].Stdout, cmds[j].Stderr = &outs[j], &outs[j]
		if err := cmds[j].Start(); err != nil {
			t.Fatal(err)
		}
	}
	var printed [2]string
	for j, cmd := range cmds {
		err := cmd.Wait()
		printed[j] = outs[j].String()
		if err != nil {
			t.Fatalf("gotask %s: %v, output:\n%s", strings.Join(args, " "), err, printed[j])
		}
	}
	return printed
}

// gotask runs bin with args in dir and returns its output.
func gotask(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// gotaskBinary returns the gotask program that TestMain puts on PATH:
// this test binary, which runs cli.Main as cmd/gotask does when started
// under that name. Built with -race, though, it takes most of a second
// to start, and a test that starts it hundreds of times gets a gotask
// built without -race instead (go build with the ordinary flags, so
// only the link is not in the build cache).
func gotaskBinary(t *testing.T) string {
	t.Helper()
	if raceDetector {
		if _, err := exec.LookPath("go"); err != nil {
			t.Skip("no go command to build gotask without -race")
		}
		bin := filepath.Join(t.TempDir(), "gotask")
		out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../cmd/gotask").CombinedOutput()
		if err != nil {
			t.Fatalf("go build ../cmd/gotask: %v\n%s", err, out)
		}
		return bin
	}
	bin, err := exec.LookPath("gotask")
	if err != nil {
		t.Fatalf("TestMain should have put gotask on PATH: %v", err)
	}
	return bin
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
