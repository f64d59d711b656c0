package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gotask/gotask/task"
)

// starterFile is what gotask --init writes: a tasks.toml that runs as it
// is and shows, in comments, what each part does.
const starterFile = `# The tasks of this project, for gotask (https://github.com/gotask/gotask).
#
#   gotask -l                          list them, with their help
#   gotask mytime                      run one
#   gotask greet --name Ann --times 2  run one with arguments
#   gotask greet --help                show a task's arguments
#   gotask                             run the default task
#
# Unknown keys are errors, reported with their line and column.

# The task a bare "gotask" runs.
default = "mytime"

# Values usable in commands as {{.name}}, like arguments.
[vars]
greeting = "Hello"

[tasks.mytime]
help = "Print the local time"
run  = "date '+Local time is %c'"

[tasks.greet]
help = "Greet someone, a number of times"
# Typed arguments, given as --name value, are checked before anything
# runs, and every value is shell-quoted where it is substituted:
# --name '$(rm -rf ~)' is one harmless word.
args = [
  { name = "name",  type = "string", default = "world", help = "who to greet" },
  { name = "times", type = "int",    default = 1,       help = "how many times" },
]
run = "for i in $(seq {{.times}}); do echo {{.greeting}}, {{.name}}!; done"

[tasks.all]
help = "Run mytime and greet first, then say done"
# Dependencies run first, each at most once.
deps = ["mytime", "greet"]
run  = "echo all done"

# A task on other machines, over SSH: name the hosts (user@host:port, or
# an alias from ~/.ssh/config), then run "gotask uptime", or any task on
# hosts of your choice with "gotask -H web1,web2 mytime".
#
# [hosts]
# web = ["deploy@web1.example.com", "web2"]
#
# [tasks.uptime]
# help  = "Show how long each web host has been up"
# hosts = "web"
# run   = "uptime"
`

// initFile writes the starter tasks.toml to opts.File, or to tasks.toml in
// the working directory, and never over an existing file.
func initFile(opts *rootOptions) error {
	path := opts.File
	if path == "" {
		path = task.FileName
	}
	if opts.Global {
		var err error
		if path, err = globalTasksFile(); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("cannot write the global tasks file: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, fs.ErrExist) {
		return &UsageError{Msg: fmt.Sprintf("%s already exists; gotask --init writes only a new file (move it away, or name another with -f FILE)", path)}
	}
	if err != nil {
		return fmt.Errorf("cannot write a starter tasks file: %w", err)
	}
	_, err = f.WriteString(starterFile)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	try := "gotask -l"
	switch {
	case opts.Global:
		try = "gotask -g -l"
	case opts.File != "":
		try = "gotask -f " + path + " -l"
	}
	fmt.Fprintf(opts.Streams.ErrOut, "gotask: wrote %s; try `%s`, then `%s mytime`\n", path, try, try[:len(try)-3])
	return nil
}
