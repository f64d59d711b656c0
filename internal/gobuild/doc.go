// Package gobuild finds a project's Go tasks and builds them into a cached
// binary.
//
// A project keeps Go-code tasks in a gotasks/ directory beside tasks.toml:
// an ordinary main package, in a Go module of the project's (a go.mod in
// gotasks/ or in a directory above it) or in none. [Find] reports whether
// such a package is there; [Builder.Binary] returns the path of a binary
// built from it, building it with the Go toolchain only when no cached
// binary matches the current sources; [Builder.Cached] never builds.
//
// # Building against the gotask that runs them
//
// The gotask module is published nowhere, so go build cannot fetch it.
// A Builder is given a copy of gotask's source ([Builder.Gotask], which
// the gotask binary carries), writes it once into the cache under the
// hash of its contents, and makes go build use it in place of
// [GotaskModule]:
//
//   - a package in no module gets a go.mod of gotask's making (gotask's
//     own requirements, a require of gotask and a replace pointing at the
//     copy) and gotask's go.sum, which go build reads through -overlay as
//     if they were in gotasks/; nothing is written there, and since the
//     requirements are complete, go build needs no network: the modules
//     gotask depends on come from the module cache that building gotask
//     filled;
//   - a package in a module of the user's is built with -modfile, a copy
//     of that go.mod with the same require and replace, and -mod=mod, so
//     that go build completes the copy itself; the user's go.mod and
//     go.sum are never written;
//   - a package in the gotask module itself (this repository's
//     examples), or in a go.work workspace, is built as its go.mod or
//     go.work says.
//
// The doc comments of the package's top-level functions are read with
// go/parser at build time into [DocsFile] beside the binary, for Go
// tasks whose help comes from them.
//
// # Cache key
//
// A binary is cached under a key made of two parts:
//
//   - the source hash: a SHA-256 over the absolute path of the gotasks
//     directory; the hash of the copy of gotask's source it builds
//     against, if any (remembered per gotask binary, by path, size and
//     modification time, so that it is computed once); the relative path and contents of every regular file under
//     it except _test.go files and names starting with "." (so files the
//     package embeds count too); the go.mod and go.sum of the enclosing
//     module; the go.work and go.work.sum in use, if any; the local
//     packages the gotasks package imports (below); the GOOS and GOARCH
//     gotask runs on; and the environment variables that change what go
//     build produces (see buildEnv in key.go);
//   - the Go version, read from the VERSION file of the GOROOT that holds
//     the go command found in PATH, so that the hot path never runs go.
//     Only a toolchain without a VERSION file (one built from source, or a
//     wrapper script) costs one "go env GOVERSION".
//
// # Local packages
//
// A package is local when it belongs to the enclosing module, to a module
// that go.mod (or go.work) replaces with a directory ("replace
// example.com/dep => ../dep"), or to a module that go.work uses. The
// source hash covers every local package that the gotasks package
// imports, directly or through other local packages, found by reading
// the import declarations at the top of their .go files, as go/build
// would but without running go. Standard-library packages and modules
// from the module cache are not followed: go.mod and go.sum pin those.
//
// Files of local packages count by name, size and modification time, not
// by contents: all the files directly in the package's directory except
// _test.go files and names starting with "." (so cgo sources and files
// embedded from that directory count; files embedded from its
// subdirectories do not). Build constraints are not evaluated, so a file
// for another system, or the packages it imports, can cause a rebuild
// that was not needed, never a stale binary. The go.mod of every other
// local module counts by contents.
//
// Counting by size and time costs one stat per file instead of a read, so
// that a cached check of a few dozen such files stays well under a
// millisecond. The price: an edit goes unseen if it leaves the file's
// size unchanged and gotask ran between it and the previous write to the
// file within one tick of the file system's clock (a few milliseconds at
// most). To spare reading the import declarations of every file on every
// run, what each file imports is remembered, by path, size and
// modification time, in an import memo in the cache directory; a file
// is read again when either changes.
//
// Settings written with "go env -w" are not seen.
//
// # Cache layout
//
//	<CacheDir>/<source hash>/<Go version>/gotasks   (gotasks.exe on Windows)
//	<CacheDir>/<source hash>/<Go version>/tasks-*.json
//	                                                what the binary's tasks are,
//	                                                kept by package cli
//	<CacheDir>/<source hash>/<Go version>/gotasks.docs.json
//	                                                doc comments of its functions
//	<CacheDir>/.build-*/                            in-progress builds
//	<CacheDir>/imports/<hash of the gotasks path>   import memo
//	<CacheDir>/built/<hash of the gotasks path>     "built here before"
//	<CacheDir>/src/<hash of gotask's source>/       the copy of gotask's source
//	<CacheDir>/src/ids/<hash of a binary's stamp>   the hash of its copy
//
// A build writes into a fresh .build-* directory inside CacheDir and is
// renamed into place, so a concurrent run sees either no binary or a whole
// one; two runs racing on the same key both build and the last rename
// wins. When go is not in PATH the newest binary under the source hash is
// used, whatever Go version built it; with none, Binary fails with
// [ErrNoToolchain]. Nothing is ever pruned: old binaries stay until the
// cache directory is deleted, which is always safe.
package gobuild
