package gobuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// ErrNoToolchain is returned, wrapped, by [Builder.Binary] when PATH has no
// go command and the cache has no binary built from the current sources.
// A caller can still offer the tasks that need no building.
var ErrNoToolchain = errors.New("no go command in PATH: Go tasks need a Go toolchain; install one from https://go.dev/dl")

// ErrNoModule is returned, wrapped, by [Builder.Binary] when it has no
// copy of gotask's source ([Builder.Gotask] is nil) and neither the
// gotasks directory nor any directory above it has a go.mod file. The
// wrapping error names the directory to run `go mod init` in.
var ErrNoModule = errors.New("the gotasks package must belong to a Go module")

// BuildError is returned by [Builder.Binary] when go build fails, most
// often because the Go tasks do not compile.
type BuildError struct {
	// Dir is the gotasks directory that was built.
	Dir string
	// Output is everything go build printed, exactly as it printed it:
	// compiler errors as file:line:col: message, relative to Dir. The same
	// bytes have already gone to Builder.Stderr.
	Output []byte
	// Err is why go build failed, usually an *exec.ExitError.
	Err error
	// Hint, when not "", is advice for a failure the compiler's messages
	// do not explain, such as a dependency missing from the module cache.
	Hint string
}

// Error says which build failed; it leaves the compiler's messages to
// Output, so that a caller that streamed them to the user does not repeat
// them.
func (e *BuildError) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("go build failed for the Go tasks in %s (%v): %s", e.Dir, e.Err, e.Hint)
	}
	return fmt.Sprintf("go build failed for the Go tasks in %s (%v); fix the errors it reported", e.Dir, e.Err)
}

// Unwrap returns e.Err.
func (e *BuildError) Unwrap() error { return e.Err }

// Builder turns a gotasks package into a cached binary. The zero value is
// ready to use. A Builder holds no state between calls, and may be used by
// several goroutines, and several processes, at once.
type Builder struct {
	// CacheDir is where binaries are kept (see the package documentation
	// for its layout). Empty means the "gotask/gotasks" directory under
	// os.UserCacheDir(). The CLI sets it from GOTASK_CACHE.
	CacheDir string

	// Stderr receives what go build prints, as it prints it: download
	// progress, warnings and compiler errors. Nil discards it; a failed
	// build's output is in BuildError.Output either way.
	Stderr io.Writer

	// Gotask is a copy of the source of the gotask module (go.mod, go.sum
	// and the .go files of its packages, at their paths in the module;
	// _test.go files are ignored), which the Go tasks are built against:
	// written once into the cache, under a name made of its hash, and put
	// in place of GotaskModule with a replace directive. A gotasks package
	// in no module gets a go.mod of gotask's making, which go build sees
	// through -overlay; one in a module of its own is built with a copy of
	// that module's go.mod (-modfile -mod=mod); neither writes to the
	// user's files. Nil, a module that is gotask itself, or a go.work in
	// use, means building as the module says, with no copy.
	Gotask fs.FS

	// GotaskStamp, when not "", names the gotask binary that carries
	// Gotask, say by its path, size and modification time: the hash of
	// Gotask is then remembered in the cache under that name, so that the
	// same binary does not hash it again. Empty means hashing it on every
	// call.
	GotaskStamp string
}

// exeName is the file name of a cached binary.
func exeName() string {
	if runtime.GOOS == "windows" {
		return "gotasks.exe"
	}
	return "gotasks"
}

// Binary returns the path of an executable built from the main package in
// pkgDir, typically the path [Find] returned. When the cache holds one
// built from the same sources by the same Go version, Binary returns it
// with built false, without running any program. Otherwise it runs go
// build in pkgDir (against the copy of gotask's source, see the package
// documentation), stores the result in the cache and returns it with
// built true.
//
// Binary fails with a *BuildError when go build fails, with an error
// wrapping [ErrNoToolchain] when there is neither a go command in PATH nor
// a binary built from these sources by any Go version, and with an error
// wrapping [ErrNoModule] when pkgDir is in no Go module and b has no copy
// of gotask's source. Cancelling ctx
// interrupts a build in progress.
func (b *Builder) Binary(ctx context.Context, pkgDir string) (path string, built bool, err error) {
	return b.binary(ctx, pkgDir, true)
}

// Cached is Binary that never builds: it returns the path of a binary
// built from the current sources, or "" when there is none, running no
// program. With no go command in PATH, it returns the newest binary built
// from these sources by any Go version, or an error wrapping
// [ErrNoToolchain].
func (b *Builder) Cached(ctx context.Context, pkgDir string) (string, error) {
	path, _, err := b.binary(ctx, pkgDir, false)
	return path, err
}

// BuiltBefore reports whether a binary has been built, or a build tried,
// from the gotasks package in pkgDir before, whatever its sources were
// then: whether its user works on Go tasks here, rather than only has
// them.
func (b *Builder) BuiltBefore(pkgDir string) bool {
	cache, err1 := b.cacheDir()
	pkgDir, err2 := filepath.Abs(pkgDir)
	if err1 != nil || err2 != nil {
		return false
	}
	_, err := os.Stat(builtFile(cache, pkgDir))
	return err == nil
}

// builtFile returns the file whose existence says that the gotasks
// package in pkgDir has been built before.
func builtFile(cache, pkgDir string) string {
	sum := sha256.Sum256([]byte(pkgDir))
	return filepath.Join(cache, "built", hex.EncodeToString(sum[:16]))
}

func (b *Builder) binary(ctx context.Context, pkgDir string, mayBuild bool) (path string, built bool, err error) {
	pkgDir, err = filepath.Abs(pkgDir)
	if err != nil {
		return "", false, err
	}
	cache, err := b.cacheDir()
	if err != nil {
		return "", false, err
	}
	m := b.mode(pkgDir)
	var gotaskID string
	if m != asIs {
		if gotaskID, err = sourceID(cache, b.Gotask, b.GotaskStamp); err != nil {
			return "", false, err
		}
	}
	src, err := sourceHash(pkgDir, loadMemo(memoFile(cache, pkgDir)), gotaskID)
	if err != nil {
		return "", false, err
	}
	goCmd, version, err := toolchain(ctx, pkgDir)
	if errors.Is(err, ErrNoToolchain) {
		if p, ok := newest(filepath.Join(cache, src)); ok && intact(p) {
			return p, false, nil
		}
		return "", false, fmt.Errorf("cannot build the Go tasks in %s: %w", pkgDir, err)
	}
	if err != nil {
		return "", false, err
	}

	dir := filepath.Join(cache, src, version)
	bin := filepath.Join(dir, exeName())
	if isExecutable(bin) {
		if intact(bin) {
			return bin, false, nil
		}
		// Cut short or changed since it was built: it could crash every
		// command, tasks.toml's included. Build it again.
		os.Remove(bin)
	}
	if !mayBuild {
		return "", false, nil
	}
	if marker := builtFile(cache, pkgDir); os.MkdirAll(filepath.Dir(marker), 0o700) == nil {
		writeAtomic(marker, []byte(pkgDir+"\n"))
	}
	if err := b.build(ctx, goCmd, pkgDir, cache, dir, m, gotaskID); err != nil {
		return "", false, err
	}
	return bin, true, nil
}

// cacheDir returns b.CacheDir or its default.
func (b *Builder) cacheDir() (string, error) {
	if b.CacheDir != "" {
		return filepath.Abs(b.CacheDir)
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for built Go tasks (%w); set GOTASK_CACHE to a writable directory", err)
	}
	return filepath.Join(dir, "gotask", "gotasks"), nil
}

// memoFile returns where the import memo (see importMemo) of the gotasks
// package in pkgDir is kept.
func memoFile(cache, pkgDir string) string {
	sum := sha256.Sum256([]byte(pkgDir))
	return filepath.Join(cache, "imports", hex.EncodeToString(sum[:16]))
}

// mode says how the package in pkgDir is to get gotask's packages.
func (b *Builder) mode(pkgDir string) mode {
	if b.Gotask == nil {
		return asIs
	}
	gomod, ok := findUp(pkgDir, "go.mod")
	if !ok {
		return standalone
	}
	if workFile(pkgDir) != "" {
		return asIs // the workspace says where every module comes from
	}
	data, err := os.ReadFile(gomod)
	if err != nil || modulePath(data) == GotaskModule {
		return asIs // go build reports an unreadable go.mod
	}
	return modfile
}

// build runs go build in pkgDir and moves the binary into dir. It builds
// in a temporary directory inside cache, on the same file system as dir,
// so that the final rename is atomic. In the standalone and modfile
// modes, the build uses the copy of gotask's source with ID gotaskID.
func (b *Builder) build(ctx context.Context, goCmd, pkgDir, cache, dir string, m mode, gotaskID string) error {
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return fmt.Errorf("cannot create the Go tasks cache: %w; set GOTASK_CACHE to a writable directory", err)
	}
	tmp, err := os.MkdirTemp(cache, ".build-*")
	if err != nil {
		return fmt.Errorf("cannot build in the Go tasks cache: %w; set GOTASK_CACHE to a writable directory", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, exeName())

	args := []string{"build", "-o", out}
	var env []string
	var srcDir string
	if m != asIs {
		srcDir, err = writeSource(cache, b.Gotask, gotaskID)
		if err != nil {
			return err
		}
		more, err := b.moduleArgs(ctx, goCmd, pkgDir, srcDir, tmp, m)
		if err != nil {
			return err
		}
		args = append(args, more...)
		if m == standalone {
			// A go.work above gotasks/ does not list the module made
			// up for it.
			env = append(os.Environ(), "GOWORK=off")
		}
	}
	args = append(args, ".")

	var output bytes.Buffer
	w := io.Writer(&output)
	if b.Stderr != nil {
		w = io.MultiWriter(&output, b.Stderr)
	}
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = pkgDir
	cmd.Env = env
	cmd.Stdout = w
	cmd.Stderr = w
	if runtime.GOOS != "windows" {
		// Let go build stop the compilers it started before it is killed.
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 5 * time.Second
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("building the Go tasks in %s: %w", pkgDir, ctx.Err())
		}
		be := &BuildError{Dir: pkgDir, Output: output.Bytes(), Err: err}
		if m != asIs {
			be.Hint = missingDependencyHint(be.Output, srcDir)
		}
		return be
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot store the built Go tasks: %w; set GOTASK_CACHE to a writable directory", err)
	}
	writeDocs(pkgDir, dir) // before the binary: whoever sees it sees them
	bin := filepath.Join(dir, exeName())
	if err := writeSeal(out, bin); err != nil {
		return fmt.Errorf("cannot store the built Go tasks: %w; set GOTASK_CACHE to a writable directory", err)
	}
	if err := os.Rename(out, bin); err != nil {
		// On Windows a binary in use cannot be replaced; one that another
		// gotask has just put there is as good as ours.
		if isExecutable(bin) {
			return nil
		}
		return fmt.Errorf("cannot store the built Go tasks: %w; set GOTASK_CACHE to a writable directory", err)
	}
	return nil
}

// moduleArgs writes, into tmp, what go build needs to build the package
// in pkgDir against the copy of gotask's source in srcDir, and returns
// the flags that make go build use it.
func (b *Builder) moduleArgs(ctx context.Context, goCmd, pkgDir, srcDir, tmp string, m mode) ([]string, error) {
	gotaskMod, err := fs.ReadFile(b.Gotask, "go.mod")
	if err != nil {
		return nil, fmt.Errorf("reading gotask's own go.mod: %w", err)
	}
	gotaskSum, _ := fs.ReadFile(b.Gotask, "go.sum") // none: go build says what is missing
	modFile, sumFile := filepath.Join(tmp, "go.mod"), filepath.Join(tmp, "go.sum")
	if m == standalone {
		if err := os.WriteFile(modFile, standaloneGoMod(gotaskMod, srcDir), 0o600); err != nil {
			return nil, err
		}
		if err := os.WriteFile(sumFile, gotaskSum, 0o600); err != nil {
			return nil, err
		}
		overlay, err := json.Marshal(map[string]map[string]string{"Replace": {
			filepath.Join(pkgDir, "go.mod"): modFile,
			filepath.Join(pkgDir, "go.sum"): sumFile,
		}})
		if err != nil {
			return nil, err
		}
		overlayFile := filepath.Join(tmp, "overlay.json")
		if err := os.WriteFile(overlayFile, overlay, 0o600); err != nil {
			return nil, err
		}
		return []string{"-overlay=" + overlayFile}, nil
	}

	gomod, _ := findUp(pkgDir, "go.mod")
	userMod, err := os.ReadFile(gomod)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", gomod, err)
	}
	userSum, _ := os.ReadFile(filepath.Join(filepath.Dir(gomod), "go.sum"))
	if err := os.WriteFile(modFile, userMod, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(sumFile, mergeSums(userSum, gotaskSum), 0o600); err != nil {
		return nil, err
	}
	edit := exec.CommandContext(ctx, goCmd, "mod", "edit",
		"-require="+GotaskModule+"@v0.0.0", "-replace="+GotaskModule+"="+srcDir, modFile)
	edit.Dir = pkgDir
	if out, err := edit.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("preparing a copy of %s for the Go tasks (go mod edit: %v): %s", gomod, err, bytes.TrimSpace(out))
	}
	// -mod=mod lets go build complete the copy: gotask's requirements,
	// a go line new enough for gotask.
	return []string{"-modfile=" + modFile, "-mod=mod"}, nil
}

// newest returns the most recently built binary under dir, a source hash
// directory, whichever Go version built it.
func newest(dir string) (string, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	var (
		best     string
		bestTime time.Time
	)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name(), exeName())
		fi, err := os.Stat(p)
		if err != nil || !executable(fi) {
			continue
		}
		if best == "" || fi.ModTime().After(bestTime) {
			best, bestTime = p, fi.ModTime()
		}
	}
	return best, best != ""
}

// isExecutable reports whether path is a regular file that can be run.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && executable(fi)
}

func executable(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0)
}
