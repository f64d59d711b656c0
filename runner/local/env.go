package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// SecretEnv lists the environment variables that gotask reads secrets from.
// They are never passed on to the commands it runs.
var SecretEnv = []string{"GOTASK_SUDO_PASSWORD", "GOTASK_LOGIN_PASSWORD"}

// Environ returns os.Environ() without SecretEnv and without the extra
// names given.
func Environ(drop ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if contains(SecretEnv, name) || contains(drop, name) {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkDir reports a working directory that is missing or no directory,
// which exec would report as the shell itself missing.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("working directory %s does not exist; create it or change the task's dir", dir)
	case err != nil:
		return fmt.Errorf("working directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("working directory %s is not a directory; change the task's dir", dir)
	}
	return nil
}
