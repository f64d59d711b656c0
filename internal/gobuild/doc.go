// Package gobuild finds a project's Go tasks and builds them into a cached
// binary.
//
// A project keeps Go-code tasks in a gotasks/ directory beside tasks.toml:
// an ordinary main package that belongs to a Go module (a go.mod in
// gotasks/ or in a directory above it). [Find] reports whether such a
// package is there; [Builder.Binary] returns the path of a binary built
// from it, building it with the Go toolchain only when no cached binary
// matches the current sources.
//
// # Cache key
//
// A binary is cached under a key made of two parts:
//
//   - the source hash: a SHA-256 over the absolute path of the gotasks
//     directory; the relative path and contents of every regular file under
//     it except _test.go files and names starting with "." (so files the
//     package embeds count too); the go.mod and go.sum of the enclosing
//     module; the go.work and go.work.sum in use, if any; the GOOS and
//     GOARCH gotask runs on; and the environment variables that change
//     what go build produces (see buildEnv in key.go);
//   - the Go version, read from the VERSION file of the GOROOT that holds
//     the go command found in PATH, so that the hot path never runs go.
//     Only a toolchain without a VERSION file (one built from source, or a
//     wrapper script) costs one "go env GOVERSION".
//
// Packages of the enclosing module that the gotasks package imports from
// outside gotasks/ are not hashed: after changing one, touch a file in
// gotasks/ or delete the cache. Settings written with "go env -w" are not
// seen either.
//
// # Cache layout
//
//	<CacheDir>/<source hash>/<Go version>/gotasks   (gotasks.exe on Windows)
//	<CacheDir>/.build-*/                            in-progress builds
//
// A build writes into a fresh .build-* directory inside CacheDir and is
// renamed into place, so a concurrent run sees either no binary or a whole
// one; two runs racing on the same key both build and the last rename
// wins. When go is not in PATH the newest binary under the source hash is
// used, whatever Go version built it; with none, Binary fails with
// [ErrNoToolchain]. Nothing is ever pruned: old binaries stay until the
// cache directory is deleted, which is always safe.
package gobuild
