package gotask

import (
	"embed"
	"io/fs"
)

// source holds go.mod, go.sum and the .go files of every package that a
// program importing cli or task is built from. The patterns also match
// _test.go files, which go:embed cannot leave out; Source's users skip
// them.
//
//go:embed go.mod go.sum *.go
//go:embed cli/*.go task/*.go output/*.go runner/*.go runner/local/*.go runner/remote/*.go runner/remote/internal/sshconfig/*.go responder/*.go
//go:embed internal/gobuild/*.go internal/shell/*.go internal/fingerprint/*.go internal/ctxio/*.go internal/watch/*.go internal/lock/*.go
//go:embed runner/internal/capture/*.go service/*.go
var source embed.FS

// Source returns the source of this module as the binary was built from
// it: go.mod, go.sum and the .go files of the packages that the cli and
// task packages are made of, at their paths in the module, _test.go files
// included. Anything else (testdata, examples, bench, cmd) is left out.
func Source() fs.FS { return source }
