// Package gotask carries the source of the gotask module's own packages,
// so that a gotask binary can build a project's Go tasks (a gotasks/ main
// package importing gotask's cli and task packages) against exactly the
// gotask that runs them, on a machine where this module is published
// nowhere and the network may be off.
//
// The packages that do the work are cli, task, runner, runner/local,
// runner/remote and responder; see the README.
package gotask
