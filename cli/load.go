package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gotask/gotask/task"
)

// loadRegistry finds and loads tasks.toml into the configured registry.
// With tasks from Go code, a missing tasks.toml is fine.
func loadRegistry(opts *rootOptions) (*task.Registry, error) {
	if opts.loaded != nil {
		// A second Load would find every task of tasks.toml defined
		// twice in a registry from Go code.
		return opts.loaded, nil
	}
	reg, err := loadRegistryOnce(opts)
	if err == nil {
		opts.loaded = reg
	}
	return reg, err
}

func loadRegistryOnce(opts *rootOptions) (*task.Registry, error) {
	if opts.Global {
		return loadGlobal()
	}
	reg := opts.cfg.registry
	path := opts.File
	if path == "" {
		root, found, err := findProject(".")
		if found == "" {
			if reg == nil && (opts.AdHoc != nil || opts.ListHosts || opts.Put != "" || opts.Get != "") {
				// An ad-hoc command needs no tasks file: its hosts come
				// from -H (hosts and ssh_config aliases) and --inventory.
				reg = task.NewRegistry()
				reg.Dir = root
				return reg, addInventory(reg, opts.Inventory)
			}
			if reg != nil {
				if err := addInventory(reg, opts.Inventory); err != nil {
					return nil, err
				}
				// Tasks from Go code alone: commands run beside the
				// gotasks/ package, as they would beside tasks.toml.
				if reg.Dir == "" {
					reg.Dir = root
				}
				return reg, reg.Validate()
			}
			if err == nil {
				err = fmt.Errorf("no %s in %s, only Go tasks, which were left out (see above); fix them, or create a %s with `gotask --init`", task.FileName, root, task.FileName)
			}
			return nil, &UsageError{Msg: err.Error()}
		}
		path = relative(found)
	}
	if reg == nil {
		reg = task.NewRegistry()
		reg.Partial = opts.cfg.goTasksLeftOut // tasks.toml may name them
	}
	if err := addInventory(reg, opts.Inventory); err != nil {
		return nil, err
	}
	if err := reg.Load(path); err != nil {
		return nil, err
	}
	return reg, nil
}

// addInventory adds the host groups and host vars of --inventory FILE,
// if given, to reg, before tasks.toml is loaded into it.
func addInventory(reg *task.Registry, file string) error {
	if file == "" {
		return nil
	}
	if _, err := os.Stat(file); err != nil {
		return &UsageError{Msg: fmt.Sprintf("--inventory %s: %v", file, errors.Unwrap(err))}
	}
	err := reg.AddInventory(file)
	var le *task.LoadError
	if err != nil && !errors.As(err, &le) {
		return &UsageError{Msg: fmt.Sprintf("--inventory %s: %v", file, err)}
	}
	return err
}

// relative shortens an absolute path below the working directory, so
// errors say tasks.toml:3:1 rather than /home/.../tasks.toml:3:1.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rest, ok := strings.CutPrefix(path, wd+string(os.PathSeparator)); ok {
		return rest
	}
	return path
}
