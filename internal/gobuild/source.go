package gobuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// GotaskModule is the module path of gotask itself, whose packages the
// Go tasks import.
const GotaskModule = "github.com/gotask/gotask"

// standaloneModule is the module path given to a gotasks package that
// belongs to no module of its own.
const standaloneModule = "gotasks"

// mode says how a gotasks package gets gotask's packages.
type mode int

const (
	// asIs: go build as the package's module says. The module is gotask
	// itself, or no copy of gotask's source was given.
	asIs mode = iota
	// standalone: the package belongs to no module. gotask generates a
	// go.mod for it, seen by go build through an overlay, that replaces
	// GotaskModule with the copy of gotask's source.
	standalone
	// modfile: the package belongs to a module of the user's. go build
	// reads a copy of its go.mod (-modfile) that adds the same replace;
	// the user's own go.mod and go.sum are never written.
	modfile
)

// skipSource reports whether a file of the gotask source is left out of
// the copy that Go tasks build against.
func skipSource(name string) bool {
	return strings.HasSuffix(name, "_test.go")
}

// sourceID returns the hex SHA-256 of the files of fsys that make up the
// copy of gotask's source (their paths and contents). With a stamp, which
// names the gotask binary that carries fsys (its path, size and
// modification time), the ID is remembered in the cache, so that a run
// of the same binary hashes nothing.
func sourceID(cache string, fsys fs.FS, stamp string) (string, error) {
	var memo string
	if stamp != "" {
		sum := sha256.Sum256([]byte(stamp))
		memo = filepath.Join(cache, "src", "ids", hex.EncodeToString(sum[:16]))
		if data, err := os.ReadFile(memo); err == nil && len(data) == 2*sha256.Size {
			return string(data), nil
		}
	}
	h := sha256.New()
	h.Write([]byte(keyFormat))
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || skipSource(p) {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		record(h, "gotask file", p, data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading gotask's own source: %w", err)
	}
	id := hex.EncodeToString(h.Sum(nil))
	if memo != "" && os.MkdirAll(filepath.Dir(memo), 0o700) == nil {
		writeAtomic(memo, []byte(id))
	}
	return id, nil
}

// writeAtomic writes data to file through a temporary file and a rename,
// so that no reader sees half of it. It is for caches: failing is
// ignored.
func writeAtomic(file string, data []byte) { _ = writeAtomicErr(file, data) }

// writeAtomicErr is writeAtomic, saying whether it worked.
func writeAtomicErr(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// writeSource makes sure that <cache>/src/<id> holds the copy of gotask's
// source in fsys, and returns that directory. The copy is written once,
// into a temporary directory renamed into place, and its files are
// read-only: it is shared by every build against the same gotask.
func writeSource(cache string, fsys fs.FS, id string) (string, error) {
	dir := filepath.Join(cache, "src", id)
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return dir, nil
	}
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("cannot write gotask's source for the Go tasks to build against: %w; set GOTASK_CACHE to a writable directory", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".write-*")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		dst := filepath.Join(tmp, filepath.FromSlash(p))
		if d.IsDir() {
			return os.Mkdir(dst, 0o755)
		}
		if skipSource(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o444)
	})
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another gotask may have put the same copy there first.
		if _, serr := os.Stat(filepath.Join(dir, "go.mod")); serr == nil {
			return dir, nil
		}
		return fail(err)
	}
	return dir, nil
}

// standaloneGoMod returns the go.mod that a gotasks package belonging to
// no module is built with: gotask's own go.mod, whose requirements pin
// every module gotask's packages need, renamed, without its tool
// directives, requiring gotask and replacing it with the copy in srcDir.
// With gotask's go.sum beside it, go build needs no network and writes
// nothing.
func standaloneGoMod(gotaskMod []byte, srcDir string) []byte {
	var b bytes.Buffer
	inTool := false
	for line := range strings.Lines(string(gotaskMod)) {
		toks := modTokens(line)
		switch {
		case inTool:
			if len(toks) == 1 && toks[0] == ")" {
				inTool = false
			}
			continue
		case len(toks) > 0 && toks[0] == "tool":
			inTool = len(toks) == 2 && toks[1] == "("
			continue
		case len(toks) == 2 && toks[0] == "module":
			fmt.Fprintf(&b, "module %s\n", standaloneModule)
			continue
		}
		b.WriteString(line)
	}
	fmt.Fprintf(&b, "\nrequire %s v0.0.0\n\nreplace %s => %s\n", GotaskModule, GotaskModule, quoteModPath(srcDir))
	return b.Bytes()
}

// quoteModPath quotes a directory for a go.mod file when it needs it.
func quoteModPath(p string) string {
	p = filepath.ToSlash(p)
	if strings.ContainsAny(p, " \t\"'`()\\") {
		return strconv.Quote(p)
	}
	return p
}

// mergeSums returns the lines of go.sum files a and b, each once, in the
// order a then b.
func mergeSums(a, b []byte) []byte {
	var out bytes.Buffer
	seen := make(map[string]bool)
	for _, data := range [][]byte{a, b} {
		for line := range strings.Lines(string(data)) {
			line = strings.TrimRight(line, "\r\n")
			if line == "" || seen[line] {
				continue
			}
			seen[line] = true
			out.WriteString(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// missingDependencyHint returns advice for a build whose output says that
// a module could not be found offline, or "" if it says nothing of the
// kind.
func missingDependencyHint(output []byte, srcDir string) string {
	for _, s := range []string{"GOPROXY=off", "missing go.sum entry", "cannot find module", "module lookup disabled", "no required module provides", "dial tcp", "no such host"} {
		if bytes.Contains(output, []byte(s)) {
			return fmt.Sprintf("the Go tasks build against gotask's own packages, whose dependencies (cobra, x/crypto, ...) come from the Go module cache; with the network on, run `go mod download` in %s to fill it, and `go get` in your module for packages of your own", srcDir)
		}
	}
	return ""
}
