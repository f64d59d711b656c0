package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotask/gotask/task"
)

// A binary built from gotasks/ describes its tasks once, and plain gotask
// lists them, shows their help, completes their names and dry-runs them
// from that description, starting the binary only to run one. See
// runGoTasks for when the description is made and trusted.

// descriptionFormat is the version of the description's format. Change
// it whenever the description gains, loses or changes a field, and
// whenever what the CLI prints from a registry changes in a way that a
// binary built with the older code would print differently: between
// development builds it is all that tells two versions of gotask apart.
const descriptionFormat = 2 // 2: Task.Answers and Step.Answers, once Responders; Step.Mode a number

// describeEnv, set in the environment of a program that calls Main with
// WithRegistry, makes Main write a description of the registry to the
// file it names, and return without doing anything else.
const describeEnv = "GOTASK_DESCRIBE_TASKS_TO"

// describeArgs are the arguments a binary is described with. A binary
// built with a gotask that knows nothing of describeEnv just prints its
// version.
var describeArgs = []string{"--version"}

// describeTimeout bounds how long a binary may take to describe itself:
// code of the user's own runs before Main.
const describeTimeout = 10 * time.Second

// modulePath is the path of the module package cli belongs to.
const modulePath = "github.com/gotask/gotask"

// description is what a binary of Go tasks says of its registry, before
// any tasks.toml is loaded into it: enough to list, explain, complete and
// dry-run its tasks. It is kept as JSON beside the binary.
type description struct {
	// Format is descriptionFormat of the gotask that wrote it. A reader
	// of another format uses none of the rest.
	Format int `json:"format"`
	// Gotask is the version of the gotask module the writer was built
	// with; "" for a development build (see gotaskVersion).
	Gotask string `json:"gotask"`
	// Unavailable, when not "", says why the binary could not be
	// described: the binary must be run for everything.
	Unavailable string `json:"unavailable,omitempty"`

	Registry *task.Registry `json:"registry,omitempty"` // its exported fields
	Tasks    []taskJSON     `json:"tasks,omitempty"`
}

// taskJSON is a task without its function: encoding/json leaves out
// task.Task's Func and Args, which the outer fields hide, and takes every
// other exported field, those added later too.
type taskJSON struct {
	task.Task
	Func bool      // written in Go: Task.Func is not nil
	Args []argJSON // typed defaults, which JSON alone would not keep
}

// argJSON is a task.Arg whose Default keeps its Go type.
type argJSON struct {
	task.Arg
	Default *valueJSON
}

// valueJSON is a value of one of the Go types task.Arg.Default may hold.
type valueJSON struct {
	Type  string // "string", "int", "int64", "bool" or "duration"
	Value string
}

func encodeValue(v any) (*valueJSON, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return &valueJSON{"string", v}, nil
	case int:
		return &valueJSON{"int", strconv.Itoa(v)}, nil
	case int64:
		return &valueJSON{"int64", strconv.FormatInt(v, 10)}, nil
	case bool:
		return &valueJSON{"bool", strconv.FormatBool(v)}, nil
	case time.Duration:
		return &valueJSON{"duration", strconv.FormatInt(int64(v), 10)}, nil
	}
	return nil, fmt.Errorf("a default of type %T", v)
}

func (v *valueJSON) decode() (any, error) {
	if v == nil {
		return nil, nil
	}
	switch v.Type {
	case "string":
		return v.Value, nil
	case "int":
		return strconv.Atoi(v.Value)
	case "int64":
		return strconv.ParseInt(v.Value, 10, 64)
	case "bool":
		return strconv.ParseBool(v.Value)
	case "duration":
		n, err := strconv.ParseInt(v.Value, 10, 64)
		return time.Duration(n), err
	}
	return nil, fmt.Errorf("a default of unknown type %q", v.Type)
}

// describe writes the description of reg to the file at path, as the
// binary of a gotasks/ package does when plain gotask asks (describeEnv).
// args are the arguments Main was given. Anything the description cannot
// hold faithfully makes it say so in Unavailable instead.
func describe(reg *task.Registry, args []string, path string) error {
	d, err := newDescription(reg)
	if err == nil && !slices.Equal(args, describeArgs) {
		err = errors.New("the program changes the arguments it passes to cli.Main")
	}
	var data []byte
	if err == nil {
		data, err = json.Marshal(d)
	}
	if err == nil {
		err = d.check(reg, data)
	}
	if err != nil {
		data, err = json.Marshal(&description{Format: descriptionFormat, Gotask: gotaskVersion(), Unavailable: err.Error()})
		if err != nil {
			return err
		}
	}
	return os.WriteFile(path, data, 0o600)
}

func newDescription(reg *task.Registry) (*description, error) {
	d := &description{Format: descriptionFormat, Gotask: gotaskVersion(), Registry: reg}
	for _, t := range reg.Tasks() {
		tj := taskJSON{Task: *t, Func: t.Func != nil}
		if t.Args != nil {
			tj.Args = make([]argJSON, 0, len(t.Args))
		}
		for _, a := range t.Args {
			v, err := encodeValue(a.Default)
			if err != nil {
				return nil, fmt.Errorf("task %q: argument %q: %w", t.Name, a.Name, err)
			}
			tj.Args = append(tj.Args, argJSON{Arg: a, Default: v})
		}
		d.Tasks = append(d.Tasks, tj)
	}
	return d, nil
}

// check makes sure that data, d encoded, gives back reg: the registry's
// exported fields and every task, all but the function itself.
func (d *description) check(reg *task.Registry, data []byte) error {
	back, err := parseDescription(data)
	if err != nil {
		return err
	}
	got, err := back.registry()
	if err != nil {
		return err
	}
	want, _ := json.Marshal(reg)
	if have, _ := json.Marshal(got); string(have) != string(want) {
		return errors.New("the registry's settings do not survive being written down")
	}
	withoutFunc := func(r *task.Registry) []task.Task {
		var ts []task.Task
		for _, t := range r.Tasks() {
			tt := *t
			tt.Func = nil
			ts = append(ts, tt)
		}
		return ts
	}
	if !reflect.DeepEqual(withoutFunc(got), withoutFunc(reg)) {
		return errors.New("its tasks do not survive being written down")
	}
	return nil
}

// parseDescription decodes a description of this format; it fails for
// one of another format.
func parseDescription(data []byte) (*description, error) {
	d := &description{Registry: task.NewRegistry()}
	if err := json.Unmarshal(data, d); err != nil {
		return nil, err
	}
	if d.Format != descriptionFormat {
		return nil, fmt.Errorf("a description of format %d, not %d", d.Format, descriptionFormat)
	}
	return d, nil
}

// registry rebuilds the registry d describes. Its Go tasks have a
// function that fails: only their own binary can run them.
func (d *description) registry() (*task.Registry, error) {
	if d.Unavailable != "" {
		return nil, errors.New(d.Unavailable)
	}
	reg := d.Registry
	if reg == nil {
		return nil, errors.New("no registry")
	}
	for _, tj := range d.Tasks {
		t := tj.Task
		t.Args = nil
		for _, a := range tj.Args {
			v, err := a.Default.decode()
			if err != nil {
				return nil, fmt.Errorf("task %q: argument %q: %w", t.Name, a.Name, err)
			}
			arg := a.Arg
			arg.Default = v
			t.Args = append(t.Args, arg)
		}
		if tj.Args != nil && t.Args == nil {
			t.Args = []task.Arg{}
		}
		if tj.Func {
			t.Func = runElsewhere
		}
		if err := reg.Add(t); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// runElsewhere is the function of a Go task known from its description.
// The CLI hands over to the binary before anything runs, so it is never
// called.
func runElsewhere(context.Context, *task.Job) error {
	return errors.New("a Go task ran outside its binary (a bug in gotask)")
}

// gotaskVersion returns the version of the gotask module this program was
// built with, or "" for a development build: one built from a directory
// (a replaced module, a checkout), with local changes, or with no version
// recorded.
func gotaskVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	m := gotaskModule(bi)
	if m == nil || m.Replace != nil || m.Version == "" || m.Version == "(devel)" || strings.HasSuffix(m.Version, "+dirty") {
		return ""
	}
	return m.Version
}

// sameGotask reports whether descriptions written by a gotask of version
// a can be used by one of version b: yes when they are the same, or when
// either is a development build, whose code only descriptionFormat tells
// apart.
func sameGotask(a, b string) bool {
	return a == b || a == "" || b == ""
}

// descriptionFile returns where the description of the binary at bin,
// whose stat is fi, is kept: beside it, named after its size and
// modification time, so that a binary replaced in place is described
// anew.
func descriptionFile(bin string, fi os.FileInfo) string {
	return filepath.Join(filepath.Dir(bin), fmt.Sprintf("tasks-%d-%d.json", fi.Size(), fi.ModTime().UnixNano()))
}

// describedRegistry returns the registry of the Go tasks binary at bin
// from its description, or an error saying why there is none that this
// gotask can use, in which case the binary must run for everything. A
// description that is missing, unreadable, or of another format is made
// again by running the binary, and stored for later runs when the cache
// is writable.
func describedRegistry(ctx context.Context, bin string) (*task.Registry, error) {
	fi, err := os.Stat(bin)
	if err != nil {
		return nil, err
	}
	file := descriptionFile(bin, fi)
	d, err := readDescription(file)
	if err != nil {
		d = describeBinary(ctx, bin, file)
	}
	// A development build's description needs no version of ours, which
	// takes reading the build information.
	if v := d.Gotask; v != "" && !sameGotask(v, gotaskVersion()) {
		return nil, fmt.Errorf("the Go tasks binary was built with gotask %s, this is gotask %s", v, gotaskVersion())
	}
	return d.registry()
}

func readDescription(file string) (*description, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return parseDescription(data)
}

// describeBinary runs the binary at bin to describe itself and stores the
// description in file, through a rename so that no reader sees half of
// it. When the binary cannot describe itself, the description stored
// says why, so that later runs do not ask again.
func describeBinary(ctx context.Context, bin, file string) *description {
	dir := filepath.Dir(file)
	unavailable := func(why string) *description {
		return &description{Format: descriptionFormat, Gotask: gotaskVersion(), Unavailable: why}
	}
	tmp, err := os.CreateTemp(dir, ".tasks-*.json")
	if err != nil {
		return unavailable(err.Error()) // not stored: a read-only cache
	}
	tmp.Close()
	defer os.Remove(tmp.Name())

	ctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, describeArgs...)
	cmd.Env = append(os.Environ(), describeEnv+"="+tmp.Name())
	err = cmd.Run()
	var d *description
	if err == nil {
		d, err = readDescription(tmp.Name())
	}
	if err != nil {
		d = unavailable(fmt.Sprintf("the binary did not describe its tasks: %v", err))
		data, err := json.Marshal(d)
		if err != nil || os.WriteFile(tmp.Name(), data, 0o600) != nil {
			return d
		}
	}
	_ = os.Rename(tmp.Name(), file)
	return d
}
