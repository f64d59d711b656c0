package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gotask/gotask/task"
)

// globalTasksFile returns the path of the global tasks file that -g
// uses: $XDG_CONFIG_HOME/gotask/tasks.toml, or
// ~/.config/gotask/tasks.toml when XDG_CONFIG_HOME is unset or relative
// (which the XDG spec says to ignore). It need not exist.
func globalTasksFile() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", &UsageError{Msg: fmt.Sprintf("cannot find the global tasks file: %v; set XDG_CONFIG_HOME or HOME", err)}
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "gotask", task.FileName), nil
}

// loadGlobal loads the global tasks file alone (no Go tasks, no project
// tasks.toml). Its tasks run in the current directory, as a program on
// PATH would; the files it includes still run in their own directories.
func loadGlobal() (*task.Registry, error) {
	path, err := globalTasksFile()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, &UsageError{Msg: fmt.Sprintf("no global tasks file %s; create it, for example with `gotask -g --init`", path)}
	}
	reg, err := task.Load(path)
	if err != nil {
		return nil, err
	}
	if reg.Dir, err = os.Getwd(); err != nil {
		return nil, fmt.Errorf("the current directory, where global tasks run: %w", err)
	}
	return reg, nil
}
