package gobuild_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/gotask/gotask/internal/gobuild"
)

// A caller finds the Go tasks beside tasks.toml, gets a binary for them
// and runs it with its own arguments.
func ExampleBuilder_Binary() {
	ctx := context.Background()
	pkgDir, ok := gobuild.Find(".")
	if !ok {
		return // no Go tasks: offer the TOML ones only
	}
	b := &gobuild.Builder{CacheDir: os.Getenv("GOTASK_CACHE"), Stderr: os.Stderr}
	path, _, err := b.Binary(ctx, pkgDir)
	var buildErr *gobuild.BuildError
	switch {
	case errors.As(err, &buildErr):
		// go build has printed the compiler's errors to Stderr.
		fmt.Fprintln(os.Stderr, err)
		return
	case err != nil: // for example gobuild.ErrNoToolchain
		fmt.Fprintln(os.Stderr, err)
		return
	}
	cmd := exec.CommandContext(ctx, path, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	_ = cmd.Run()
}
