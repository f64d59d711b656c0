// Command gotask runs the tasks of tasks.toml, locally or over SSH.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/gotask/gotask/cli"
)

func main() {
	// gotask is a short-lived process: collecting garbage less often
	// costs little memory and saves time on large up-to-date checks.
	debug.SetGCPercent(400)
	// cli.Main handles Ctrl-C and SIGTERM itself, once it runs commands.
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Std()))
}
