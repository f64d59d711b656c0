// Command gotask runs the tasks of tasks.toml, locally or over SSH.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/gotask/gotask/cli"
)

func main() {
	// gotask is a short-lived process: collecting garbage less often
	// costs little memory and saves time on large up-to-date checks.
	debug.SetGCPercent(400)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first Ctrl-C stops the tasks cleanly; a second one, with
		// the default handling restored, ends gotask at once.
		<-ctx.Done()
		stop()
	}()
	code := cli.Main(ctx, os.Args[1:], cli.Std())
	stop()
	os.Exit(code)
}
