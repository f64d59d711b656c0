package gobuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// keyFormat starts every source hash; change it whenever the hash covers
// something new, so that no binary built under the old rules is reused.
const keyFormat = "gotask/gobuild key 3\n"

// buildEnv lists the environment variables that change what go build
// produces from the same sources. Their values are part of the source hash.
var buildEnv = [...]string{
	"GOOS", "GOARCH", "GO386", "GOAMD64", "GOARM", "GOARM64", "GOPPC64", "GORISCV64",
	"GOEXPERIMENT", "GOFLAGS", "CGO_ENABLED", "GO111MODULE", "GOTOOLCHAIN", "GOWORK",
}

// sourceHash returns the hex SHA-256 of everything except the Go version
// that decides what go build makes of the package in pkgDir, an absolute
// path. gotaskID, when not "", is the ID of the copy of gotask's source
// the package builds against (see sourceID); without one, it fails with
// ErrNoModule when pkgDir is in no module. It takes what the Go files of
// local packages import from memo where it can, and saves memo for the
// next run.
func sourceHash(pkgDir string, memo *importMemo, gotaskID string) (string, error) {
	h := sha256.New()
	h.Write([]byte(keyFormat))
	record(h, "dir", pkgDir, nil)
	record(h, "platform", runtime.GOOS+"/"+runtime.GOARCH, nil)
	for _, name := range buildEnv {
		if v, ok := os.LookupEnv(name); ok {
			record(h, "env", name, []byte(v))
		} else {
			record(h, "unset", name, nil)
		}
	}

	if gotaskID != "" {
		record(h, "gotask source", gotaskID, nil)
	}
	gomod, ok := findUp(pkgDir, "go.mod")
	if !ok && gotaskID != "" {
		// A module of gotask's making, whose go.mod depends on nothing
		// but gotaskID. Every file of gotasks/ and its subdirectories
		// counts below; nothing else is local.
		record(h, "standalone", standaloneModule, nil)
		if err := hashPackageFiles(h, pkgDir, nil); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	if !ok {
		return "", fmt.Errorf("no go.mod in %s or any parent: %w; run `go mod init <module path>` in %s",
			pkgDir, ErrNoModule, filepath.Dir(pkgDir))
	}
	modData, err := recordFile(h, "module", gomod)
	if err != nil {
		return "", err
	}
	if _, err := recordFile(h, "module", filepath.Join(filepath.Dir(gomod), "go.sum")); err != nil {
		return "", err
	}
	work := workFile(pkgDir)
	var workData []byte
	if work != "" {
		if workData, err = recordFile(h, "work", work); err != nil {
			return "", err
		}
		if _, err := recordFile(h, "work", work+".sum"); err != nil {
			return "", err
		}
	}

	var imports []string
	if err := hashPackageFiles(h, pkgDir, &imports); err != nil {
		return "", err
	}

	// The packages that the gotasks package imports from local modules,
	// and so on down, count by the size and modification time of their
	// files: a stat per file, plus a read of the header of each Go file
	// the memo does not know as it is, rather than a read of every file.
	mods, err := localModules(h, gomod, modData, work, workData)
	if err != nil {
		return "", err
	}
	pkgs, err := localPackages(mods, imports, memo)
	if err != nil {
		return "", fmt.Errorf("reading the packages the Go tasks in %s import: %w", pkgDir, err)
	}
	memo.save()
	var stamp []byte
	for _, p := range pkgs {
		if p.missing {
			record(h, "package missing", p.path, nil)
			continue
		}
		record(h, "package", p.path, nil)
		for _, f := range p.files {
			stamp = strconv.AppendInt(stamp[:0], f.size, 10)
			stamp = append(stamp, ' ')
			stamp = strconv.AppendInt(stamp, f.modTime, 10)
			record(h, "package file", p.path+"/"+f.name, stamp)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashPackageFiles records in h the relative path and contents of every
// regular file under pkgDir except _test.go files and names starting
// with ".", and, when imports is not nil, appends to it what the Go files
// directly in pkgDir import.
func hashPackageFiles(h hash.Hash, pkgDir string, imports *[]string) error {
	// WalkDir visits entries in lexical order, so the hash does not depend
	// on the order the file system lists them in.
	err := filepath.WalkDir(pkgDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == pkgDir {
			return err
		}
		name := d.Name()
		switch {
		case strings.HasPrefix(name, ".") && d.IsDir():
			return filepath.SkipDir
		case strings.HasPrefix(name, "."), strings.HasSuffix(name, "_test.go"), d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			// go build follows a symlink to a file; follow it too.
			if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		case !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(pkgDir, path)
		if err != nil {
			return err
		}
		record(h, "file", filepath.ToSlash(rel), data)
		if imports != nil && rel == name && isGoSource(name) {
			more, _ := readImports(bytes.NewReader(data)) // a bytes.Reader cannot fail
			*imports = append(*imports, more...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the Go tasks in %s: %w", pkgDir, err)
	}
	return nil
}

// record writes one length-prefixed entry into h, so that no two different
// sequences of entries hash the same bytes.
func record(h hash.Hash, kind, name string, data []byte) {
	var buf []byte
	buf = append(buf, kind...)
	buf = append(buf, 0)
	buf = strconv.AppendInt(buf, int64(len(name)), 10)
	buf = append(buf, 0)
	buf = append(buf, name...)
	buf = strconv.AppendInt(buf, int64(len(data)), 10)
	buf = append(buf, 0)
	h.Write(buf)
	h.Write(data)
}

// recordFile records the contents of the file at path, or that it does not
// exist, and returns the contents.
func recordFile(h hash.Hash, kind, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		record(h, kind+" absent", path, nil)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	record(h, kind, path, data)
	return data, nil
}

// findUp looks for a regular file called name in dir and then in each of
// its parents.
func findUp(dir, name string) (string, bool) {
	for {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// workFile returns the go.work file that go build in pkgDir would use, or
// "" for none.
func workFile(pkgDir string) string {
	switch v := os.Getenv("GOWORK"); v {
	case "off":
		return ""
	case "":
		p, _ := findUp(pkgDir, "go.work")
		return p
	default:
		return v
	}
}

// toolchain returns the go command in PATH and the version of Go it runs,
// in a form fit for a file name. It reads the version from the VERSION file
// at the root of the command's GOROOT, so as not to start a process; only
// when there is no such file does it ask "go env GOVERSION". It returns
// ErrNoToolchain when PATH has no go command.
func toolchain(ctx context.Context, pkgDir string) (goCmd, version string, err error) {
	goCmd, err = exec.LookPath("go")
	if err != nil {
		return "", "", ErrNoToolchain
	}
	root := os.Getenv("GOROOT")
	if root == "" {
		if real, err := filepath.EvalSymlinks(goCmd); err == nil {
			root = filepath.Dir(filepath.Dir(real)) // <GOROOT>/bin/go
		}
	}
	if root != "" {
		if v := readVersion(filepath.Join(root, "VERSION")); v != "" {
			return goCmd, v, nil
		}
	}

	cmd := exec.CommandContext(ctx, goCmd, "env", "GOVERSION")
	cmd.Dir = pkgDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	v := strings.TrimSpace(string(out))
	if err != nil || v == "" {
		return "", "", fmt.Errorf("cannot tell which Go version %s is (running `go env GOVERSION` in %s: %v %s); check that `go version` works",
			goCmd, pkgDir, err, strings.TrimSpace(stderr.String()))
	}
	return goCmd, fileSafe(v), nil
}

// readVersion returns the Go version named on the first line of a GOROOT's
// VERSION file, or "" if there is no such file or it names no version.
func readVersion(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "go") {
		return ""
	}
	return fileSafe(line)
}

// fileSafe replaces every byte of s that is not safe in a file name on all
// systems with '_'.
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == '+', c == '_':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}
