// Package runner holds the contract every gotask runner meets: a Cmd to
// run, the Result it leaves, the ExitError for a failed command and the
// Runner interface itself. Concrete runners live in runner/local (this
// machine, with a pseudo-terminal) and runner/remote (SSH).
//
// The vocabulary follows os/exec, so that Cmd reads like exec.Cmd: nil
// Stdin is no input, nil Stdout and Stderr discard.
package runner
