package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWatchRerunsOnSave(t *testing.T) {
	t.Parallel()
	bin := gotaskBinary(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tasks.toml"), `[tasks.build]
sources = ["src/**/*.go", "!**/*_test.go"]
run = "echo built $(cat src/*.go)"
`)
	writeFile(t, filepath.Join(dir, "src", "a.go"), "v1")
	p := startGotask(t, bin, dir, "--watch", "build")
	p.waitOutput(t, regexp.MustCompile(`(?m)^built v1$`))

	writeFile(t, filepath.Join(dir, "src", "a.go"), "v2")
	p.waitOutput(t, regexp.MustCompile(`(?m)^gotask: src/a.go changed; running build\nbuilt v2$`))

	// Files the sources leave out, then one they take: the rerun names
	// the source only, and nothing ran for the others.
	writeFile(t, filepath.Join(dir, "notes.txt"), "x")
	writeFile(t, filepath.Join(dir, "src", "a_test.go"), "x")
	writeFile(t, filepath.Join(dir, "src", "sub", "b.go"), "b")
	p.waitOutput(t, regexp.MustCompile(`(?m)^gotask: src/sub/b.go changed; running build\n`))
	if n := strings.Count(p.out.String(), "changed; running"); n != 2 {
		t.Errorf("%d reruns, want 2 (files outside sources must not rerun):\n%s", n, p.out)
	}
	if strings.Contains(p.out.String(), "notes.txt") || strings.Contains(p.out.String(), "a_test.go") {
		t.Errorf("a file outside the sources was taken as a change:\n%s", p.out)
	}

	// Ctrl-C ends watch mode with 130.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 130 {
		t.Errorf("Ctrl-C: exit %d, want 130; output:\n%s", code, p.out)
	}
	// Ctrl-C is how watch mode ends: no error of gotask's own about it.
	if strings.Contains(p.out.String(), "context canceled") {
		t.Errorf("Ctrl-C printed an internal error:\n%s", p.out)
	}
}

// sleepers returns the pids of the live (not zombie) processes whose
// command line is exactly "sleep ARG".
func sleepers(t *testing.T, arg string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc: cannot look for the run's processes")
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || string(cmdline) != "sleep\x00"+arg+"\x00" {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// A change during a run stops the run (its whole process group, as
// Ctrl-C does: here a sleep that would never end by itself, a child of
// the task's shell) and starts it again.
func TestWatchChangeCancelsTheRun(t *testing.T) {
	t.Parallel()
	bin := gotaskBinary(t)
	dir := t.TempDir()
	// A sleep argument no other process has, so that the test finds this
	// run's sleeps and no one else's.
	arg := fmt.Sprintf("%d%d", 100000+os.Getpid()%100000, len(dir))
	t.Cleanup(func() {
		for _, pid := range sleepers(t, arg) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	writeFile(t, filepath.Join(dir, "tasks.toml"), fmt.Sprintf(`[tasks.serve]
sources = ["*.txt"]
run = "echo serving $(cat v.txt); sleep %s; echo never"
`, arg))
	writeFile(t, filepath.Join(dir, "v.txt"), "v1")
	p := startGotask(t, bin, dir, "--watch", "serve")
	p.waitOutput(t, regexp.MustCompile(`(?m)^serving v1$`))
	// The sleep starts just after the echo.
	guard := time.After(hangGuard)
	first := sleepers(t, arg)
	for len(first) == 0 {
		select {
		case <-guard:
			t.Fatalf("the run's sleep never started; output:\n%s", p.out)
		case <-time.After(10 * time.Millisecond):
		}
		first = sleepers(t, arg)
	}

	writeFile(t, filepath.Join(dir, "v.txt"), "v2")
	p.waitOutput(t, regexp.MustCompile(`(?m)^gotask: v.txt changed; running serve\nserving v2$`))
	for _, pid := range first {
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(stat), ") Z") {
			t.Errorf("the first run's sleep (pid %d) still runs after the rerun started", pid)
		}
	}
	if strings.Contains(p.out.String(), "never") {
		t.Errorf("the cancelled run went on past its sleep:\n%s", p.out)
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 130 {
		t.Errorf("Ctrl-C: exit %d, want 130; output:\n%s", code, p.out)
	}
	// Ctrl-C is how watch mode ends: no error of gotask's own about it.
	if strings.Contains(p.out.String(), "context canceled") {
		t.Errorf("Ctrl-C printed an internal error:\n%s", p.out)
	}
	if left := sleepers(t, arg); len(left) > 0 {
		t.Errorf("after Ctrl-C, the run's sleep is left: %v", left)
	}
}
