// Package cli is gotask's command line: the cobra command tree, flags,
// output formatting and the mapping of errors to exit codes. It is public
// so that a Go program can embed the whole CLI around its own tasks:
//
//	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Std(), cli.WithRegistry(reg)))
//
// Main handles Ctrl-C and SIGTERM itself while commands run.
package cli
