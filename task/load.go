package task

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileName is the name gotask looks for.
const FileName = "tasks.toml"

// Find looks for tasks.toml in dir and then in each parent directory, as
// git looks for .git, and returns the first it finds.
func Find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		p := filepath.Join(d, FileName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", fmt.Errorf("no %s in %s or any parent directory: %w", FileName, abs, fs.ErrNotExist)
}

// Load reads a tasks.toml into a new registry.
func Load(path string) (*Registry, error) {
	r := NewRegistry()
	if err := r.Load(path); err != nil {
		return nil, err
	}
	return r, nil
}

// Load reads a tasks.toml into r, beside the tasks r already has (tasks
// from Go code, say), and validates the whole. Errors name the file, line
// and column, and the task. On error r may hold some of the file's tasks:
// do not run anything from it.
func (r *Registry) Load(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &LoadError{File: path, Msg: "no such file; check the path given with -f"}
		}
		return err
	}
	return r.LoadBytes(path, data)
}

// LoadBytes is Load for a document already in memory; path names it in
// errors and sets r.Dir. The files it includes are read from disk.
func (r *Registry) LoadBytes(path string, data []byte) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	r.File = path
	r.Dir = filepath.Dir(abs)
	l := &loader{r: r, docs: map[string][]byte{}}
	if err := l.file(path, data, unit{chain: []string{abs}, names: []string{path}}); err != nil {
		return err
	}
	if len(l.errs) == 0 {
		if err := r.Validate(); err != nil {
			for _, e := range unjoin(err) {
				var le *LoadError
				if errors.As(e, &le) {
					l.errs = append(l.errs, le)
				} else {
					l.errs = append(l.errs, &LoadError{File: path, Msg: e.Error()})
				}
			}
		}
	}
	if len(l.errs) == 0 {
		return nil
	}
	l.locate()
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// The raw shape of tasks.toml. Keys that take more than one type (run is
// a string or a list, sudo a bool or a user) decode into any and are
// checked by the converter.
type rawFile struct {
	Default         string                `toml:"default"`
	Vars            map[string]any        `toml:"vars"`
	Hosts           map[string]any        `toml:"hosts"`
	SudoPasswordCmd string                `toml:"sudo_password_cmd"`
	Tasks           map[string]rawTask    `toml:"tasks"`
	Includes        map[string]any        `toml:"includes"`
	Env             map[string]any        `toml:"env"`
	Dotenv          []string              `toml:"dotenv"`
	HostVars        map[string]any        `toml:"host_vars"`
	Services        map[string]rawService `toml:"services"`
}

type rawTask struct {
	Help         string         `toml:"help"`
	Aliases      []string       `toml:"aliases"`
	Args         []rawArg       `toml:"args"`
	Deps         []string       `toml:"deps"`
	Post         []string       `toml:"post"`
	Run          any            `toml:"run"`
	Steps        []rawStep      `toml:"steps"`
	Env          map[string]any `toml:"env"`
	Dir          string         `toml:"dir"`
	Pty          *bool          `toml:"pty"`
	Warn         bool           `toml:"warn"`
	Timeout      string         `toml:"timeout"`
	ForwardAgent bool           `toml:"forward_agent"`
	Retries      int            `toml:"retries"`
	Sudo         any            `toml:"sudo"`
	Responders   []rawResponder `toml:"responders"`
	Hosts        any            `toml:"hosts"`
	Serial       any            `toml:"serial"`
	MaxFail      any            `toml:"max_fail"`
	MaxFailPct   any            `toml:"max_fail_percent"`
	Sources      []string       `toml:"sources"`
	Generates    []string       `toml:"generates"`
	Status       []string       `toml:"status"`
	UseGitignore bool           `toml:"use_gitignore"`
	Hidden       bool           `toml:"hidden"`
	Confirm      any            `toml:"confirm"`
	Dotenv       []string       `toml:"dotenv"`

	// v2-flow: control flow.
	If            string            `toml:"if"`
	Preconditions []rawPrecondition `toml:"preconditions"`
	RetryDelay    string            `toml:"retry_delay"`
	Until         string            `toml:"until"`

	// issue 18: the niceness of the task's commands.
	Nice *int `toml:"nice"`
}

type rawPrecondition struct {
	Sh  string `toml:"sh"`
	Msg string `toml:"msg"`
}

type rawArg struct {
	Name     string `toml:"name"`
	Type     string `toml:"type"`
	Default  any    `toml:"default"`
	Required bool   `toml:"required"`
	Help     string `toml:"help"`
	Short    string `toml:"short"`

	DefaultEnv string `toml:"default_env"`
	// v2-flow: arguments given as bare words, and their choices.
	Positional bool     `toml:"positional"`
	Variadic   bool     `toml:"variadic"`
	Choices    []string `toml:"choices"`
}

type rawStep struct {
	Run        string         `toml:"run"`
	Local      string         `toml:"local"`
	Task       string         `toml:"task"`
	Args       map[string]any `toml:"args"`
	Put        string         `toml:"put"`
	Get        string         `toml:"get"`
	To         string         `toml:"to"`
	Mode       string         `toml:"mode"`
	Sudo       any            `toml:"sudo"`
	Warn       bool           `toml:"warn"`
	Dir        string         `toml:"dir"`
	Env        map[string]any `toml:"env"`
	Pty        *bool          `toml:"pty"`
	Timeout    string         `toml:"timeout"`
	Retries    *int           `toml:"retries"`
	Once       bool           `toml:"once"`
	Responders []rawResponder `toml:"responders"`
	For        any            `toml:"for"`
	Parallel   int            `toml:"parallel"`
	Capture    string         `toml:"capture"`

	// v2-flow: control flow.
	If         string `toml:"if"`
	Defer      any    `toml:"defer"`
	RetryDelay string `toml:"retry_delay"`
	Until      string `toml:"until"`
}

type rawResponder struct {
	Pattern     string `toml:"pattern"`
	Response    string `toml:"response"`
	ResponseEnv string `toml:"response_env"`
}
