package cli_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"

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
//   - GOTASK_ROOT, the root of this module, which is not published: a
//     script copies its sources and replaces github.com/gotask/gotask
//     with the copy, taking go.mod's requirements and go.sum from there;
//   - the go settings above, with GOPROXY=off, so that every module comes
//     from the module cache and nothing is downloaded.
func setGoEnv(env *testscript.Env) error {
	root, err := filepath.Abs("..") // tests run in cli/
	if err != nil {
		return err
	}
	env.Setenv("GOTASK_ROOT", root)
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
