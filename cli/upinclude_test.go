package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestUpIncludedService runs, with real processes, a project whose
// included file (web/tasks.toml, included as web) declares a service:
// gotask -l lists it as web:api, gotask up starts it (its dep, the same
// file's build, first) in the included file's directory, its output is
// prefixed [web:api], gotask ps shows it and gotask restart web:api
// restarts it, a change to a file its watch patterns name (relative to
// web/) restarts it, and Ctrl-C stops it.
func TestUpIncludedService(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tasks.toml"), `
[vars]
evil = "startUp sets it"

[includes]
web = "web/tasks.toml"
`)
	web := filepath.Join(dir, "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(web, "tasks.toml"), `
[tasks.build]
run = "pwd > built"

[services.api]
help = "the web API"
run = "echo api up; pwd > pwd.tmp && mv pwd.tmp pwd; echo $$ > api.pid; exec sleep 300"
ready = { sh = "test -f pwd" }
deps = ["build"]
watch = ["*.txt"]
`)
	file := filepath.Join(dir, "tasks.toml")

	list := exec.Command(gotaskBinary(t), "-f", file, "-l")
	list.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("gotask -l: %v\n%s", err, out)
	}
	_, services, ok := strings.Cut(string(out), "Services")
	if !ok || !strings.Contains(services, "web:api") || !strings.Contains(services, "the web API") {
		t.Errorf("gotask -l lists no service web:api:\n%s", out)
	}

	cmd, buf := startUp(t, file)
	pid := readPid(t, filepath.Join(web, "api.pid"))
	waitFor(t, "the ready line", func() bool { return strings.Contains(buf.String(), "gotask: up: 1 of 1 instances ready") })
	got, err := os.ReadFile(filepath.Join(web, "pwd"))
	if err != nil {
		t.Fatal(err)
	}
	realWeb, _ := filepath.EvalSymlinks(web)
	if pwd := strings.TrimSpace(string(got)); pwd != web && pwd != realWeb {
		t.Errorf("web:api ran in %q, want the included file's directory %q", pwd, web)
	}
	if _, err := os.Stat(filepath.Join(web, "built")); err != nil {
		t.Errorf("its dep, web's build, did not run in web/: %v", err)
	}
	if !strings.Contains(buf.String(), "[web:api] api up") {
		t.Errorf("no output line prefixed [web:api]")
	}
	// The control socket takes the name: ps shows it, restart finds it.
	ps := exec.Command(gotaskBinary(t), "-f", file, "ps")
	if out, err := ps.CombinedOutput(); err != nil || !strings.Contains(string(out), "web:api") {
		t.Errorf("gotask ps: %v, without web:api:\n%s", err, out)
	}
	restart := exec.Command(gotaskBinary(t), "-f", file, "restart", "web:api")
	if out, err := restart.CombinedOutput(); err != nil {
		t.Errorf("gotask restart web:api: %v\n%s", err, out)
	}
	pid = waitNewPid(t, filepath.Join(web, "api.pid"), pid)
	// watch patterns start from the included file's directory.
	writeFile(t, filepath.Join(web, "change.txt"), "x")
	pid = waitNewPid(t, filepath.Join(web, "api.pid"), pid)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if !gone(pid) {
		t.Errorf("web:api (pid %d) outlived gotask up", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if !strings.Contains(buf.String(), "web:api") || !strings.Contains(buf.String(), "gotask up: 1 instances, 0 failed") {
		t.Errorf("no summary naming web:api")
	}
}

// waitNewPid waits until path holds a pid other than old, and returns it.
func waitNewPid(t *testing.T, path string, old int) int {
	t.Helper()
	var pid int
	waitFor(t, "a new pid in "+path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !strings.HasSuffix(string(b), "\n") {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid != old
	})
	return pid
}
