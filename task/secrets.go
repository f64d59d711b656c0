package task

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// SecretEnv returns the names of the environment variables that hold the
// registry's secrets: each host group's sudo_password_env and each
// responder's response_env (of tasks and steps), sorted, without
// duplicates. gotask reads them itself and keeps them out of the
// environment of every command it runs; a program that runs an Executor
// with its own local runner should give that runner an environment
// without them (see local.Environ).
func (r *Registry) SecretEnv() []string {
	return slices.Sorted(maps.Keys(r.secretEnv()))
}

// secretEnv maps each secret variable's name to where the registry names
// it, for errors.
func (r *Registry) secretEnv() map[string]string {
	where := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(r.Groups)) {
		if v := r.Groups[name].SudoPasswordEnv; v != "" && where[v] == "" {
			where[v] = fmt.Sprintf("the sudo_password_env of host group %q", name)
		}
	}
	add := func(task string, rs []Answer) {
		for _, x := range rs {
			if x.ResponseEnv != "" && where[x.ResponseEnv] == "" {
				where[x.ResponseEnv] = fmt.Sprintf("a response_env of task %q", task)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.tasks)) {
		t := r.tasks[name]
		add(name, t.Answers)
		for i := range t.Steps {
			add(name, t.Steps[i].Answers)
		}
	}
	return where
}

// addSecrets reads every secret variable of the registry that is set and
// adds its value to e.Secrets, before the first command runs: a command
// that prints a secret before gotask uses it shows it masked too. A value
// too short to mask is an error naming the variable.
func (e *Executor) addSecrets() error {
	if e.Secrets == nil {
		return nil
	}
	where := e.Registry.secretEnv()
	for _, name := range slices.Sorted(maps.Keys(where)) {
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			continue
		}
		if err := e.Secrets.Add(strings.TrimSuffix(v, "\n")); err != nil {
			return fmt.Errorf("$%s (%s): %w", name, where[name], err)
		}
	}
	return nil
}
