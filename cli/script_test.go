package cli_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gotask/gotask/cli"
)

// TestMain makes the test binary double as the gotask program, which
// testscript puts on PATH inside every script.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gotask": func() { os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Std())) },
		// An HTTP server for the services' tests: gotask-test-http ADDR.
		"gotask-test-http": testHTTPServer,
	})
}

// TestScripts runs the CLI specifications in testdata/script, one
// behaviour per file.
func TestScripts(t *testing.T) {
	src := gotaskSource(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			// testscript starts from an almost empty environment (no
			// NO_COLOR, no TERM); fix the locale so that output is the
			// same on every machine.
			env.Setenv("LC_ALL", "C")
			return setGoEnv(env, src)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": cmdExits,
		},
	})
}

// cmdExits runs a program like exec and checks its exit status:
//
//	exits 2 gotask nosuchtask
//
// Its stdout and stderr can then be checked as after exec.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad exit code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
