package cli_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// goSettings are the go command's settings that a script inherits from
// the real environment, so that the Go tasks it builds reuse the build
// and module caches: testscript runs scripts with HOME=/no-home, where go
// would find neither cache, nor the settings of `go env -w`. With no go
// in PATH there are none, and the scripts that build Go tasks skip
// themselves.
var goSettings = sync.OnceValues(func() (map[string]string, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return nil, nil
	}
	out, err := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOTOOLCHAIN").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	var env map[string]string
	return env, json.Unmarshal(out, &env)
})

// setGoEnv gives a script what it needs to build Go tasks offline:
//
//   - GOTASK_SRC, a copy of this module's sources made once for all the
//     scripts (see gotaskSource), which a script's go.mod names in a
//     replace directive, taking go.mod's requirements and go.sum from
//     there: github.com/gotask/gotask is not published;
//   - the go settings above, with GOPROXY=off, so that every module comes
//     from the module cache and nothing is downloaded.
//
// The scripts build with the go command's ordinary flags (no -trimpath),
// so that the standard library and every dependency come compiled from
// the build cache that `go test` itself fills; and since all of them
// use the one copy, gotask's own packages compile once for all the
// scripts, and not again until its sources change.
func setGoEnv(env *testscript.Env, src string) error {
	env.Setenv("GOTASK_SRC", src)
	settings, err := goSettings()
	if err != nil {
		return err
	}
	for k, v := range settings {
		env.Setenv(k, v)
	}
	env.Setenv("GOPROXY", "off")
	return nil
}

// gotaskSource returns a copy of the sources of this module (no tests,
// no testdata, no .git) for the scripts to build against, not the
// working tree itself, so that someone editing the tree while the tests
// run cannot change the Go tasks' sources between two steps of a script
// (and make it rebuild where it must not).
//
// The copy's path is its content's hash under os.TempDir, so that every
// test run of the same sources uses the same path, and the go command
// finds gotask's own packages compiled by the last run rather than
// compile them again (a package's place is part of its build key, unless
// -trimpath, which would miss every package `go test` compiled). Copies
// of other sources that nobody has used for a day are removed.
func gotaskSource(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..") // tests run in cli/
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	h := sha256.New()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		switch {
		case name == ".git" && !d.IsDir():
			// A git worktree's .git is a file that names the repository:
			// a script's `git commit` in the copy would commit there.
			return nil
		case d.IsDir() && (name == ".git" || name == "testdata"):
			return filepath.SkipDir
		case !d.Type().IsRegular(), strings.HasSuffix(name, "_test.go"), strings.HasSuffix(name, ".test"):
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = data
		fmt.Fprintf(h, "%q %d\n", rel, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		t.Fatalf("reading the gotask sources for the scripts: %v", err)
	}
	const prefix = "gotask-test-src-"
	dst := filepath.Join(os.TempDir(), fmt.Sprintf("%s%x", prefix, h.Sum(nil)[:8]))
	now := time.Now()
	if _, err := os.Stat(dst); err == nil {
		_ = os.Chtimes(dst, now, now) // still in use
		return dst
	}
	tmp, err := os.MkdirTemp(os.TempDir(), prefix+"new-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp) // left only if the rename below failed
	for rel, data := range files {
		p := filepath.Join(tmp, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	// Whole or not at all; another run may have made it meanwhile.
	if err := os.Rename(tmp, dst); err != nil {
		if _, statErr := os.Stat(dst); statErr != nil {
			t.Fatalf("copying the gotask sources for the scripts: %v", err)
		}
	}
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, p := range old {
		if st, err := os.Stat(p); err == nil && p != dst && now.Sub(st.ModTime()) > 24*time.Hour {
			os.RemoveAll(p)
		}
	}
	return dst
}
