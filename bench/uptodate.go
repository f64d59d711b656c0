package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// The up-to-date benchmarks check a task whose sources are a tree of
// treeFiles files of treeFileSize bytes, treeFilesPerDir to a directory.
const (
	treeFiles       = 20_000
	treeFileSize    = 4096
	treeFilesPerDir = 80 // 250 directories, under 10 parents
)

// uptodateBenchmarks measures the check that skips a task whose sources
// and generates are unchanged (internal/fingerprint): against a walk that
// stats every file, when nothing changed and when one file did, and
// against sha256sum when there is no record yet.
func uptodateBenchmarks() []benchmark {
	// statTree is the physical lower bound of a check that trusts the
	// stat of each file: find stats every file for -size.
	statTree := func(ctx context.Context, e *env) (sample, error) {
		c := e.command(ctx, "find", "src", "-type", "f", "-size", "+0", "-printf", "")
		c.Dir = treeDir(e)
		return timeCmd(c)
	}
	edits := 0
	return []benchmark{
		{
			name:        "uptodate/20k-files-unchanged",
			target:      "≤ 2x `find` stat'ing every file",
			ratioTarget: 2,
			runs:        15,
			setup: func(ctx context.Context, e *env) error {
				if err := setupUptodate(ctx, e); err != nil {
					return err
				}
				return checkBuild(ctx, e, true)
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return timeBuild(ctx, e, true)
			},
			baseline: statTree,
		},
		{
			name:        "uptodate/20k-files-1-changed",
			target:      "≤ 4x `find` (for the record: 2 walks, as Record walks again)",
			ratioTarget: 4,
			runs:        15,
			setup: func(ctx context.Context, e *env) error {
				if err := setupUptodate(ctx, e); err != nil {
					return err
				}
				if err := checkBuild(ctx, e, true); err != nil {
					return err
				}
				edits++
				if err := editSource(e, edits); err != nil {
					return err
				}
				return checkBuild(ctx, e, false)
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				// Same size, new contents and times: the check must read
				// the file to see that it changed.
				edits++
				if err := editSource(e, edits); err != nil {
					return sample{}, err
				}
				return timeBuild(ctx, e, false)
			},
			baseline: statTree,
		},
		{
			name:        "uptodate/20k-files-cold",
			target:      "≤ 1x `find | xargs sha256sum` (no record: hash all)",
			ratioTarget: 1,
			runs:        9,
			setup: func(ctx context.Context, e *env) error {
				if err := setupUptodate(ctx, e); err != nil {
					return err
				}
				if err := os.RemoveAll(filepath.Join(e.dir, ".gotask")); err != nil {
					return err
				}
				return checkBuild(ctx, e, false)
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				if err := os.RemoveAll(filepath.Join(e.dir, ".gotask")); err != nil {
					return sample{}, err
				}
				return timeBuild(ctx, e, false)
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				c := e.command(ctx, "sh", "-c", "find src -type f -print0 | xargs -0 sha256sum >/dev/null")
				c.Dir = treeDir(e)
				return timeCmd(c)
			},
		},
	}
}

// setupUptodate makes the tree, if no benchmark of this run has, and
// writes a tasks.toml whose task build has the tree's files as sources.
func setupUptodate(ctx context.Context, e *env) error {
	made, took, err := makeTree(ctx, treeDir(e))
	if err != nil {
		return fmt.Errorf("making the source tree: %w", err)
	}
	if made {
		e.notef("made the tree of %d files of %d bytes in %d directories in %s; the uptodate benchmarks share it",
			treeFiles, treeFileSize, treeFiles/treeFilesPerDir, took.Round(time.Millisecond))
	}
	doc := fmt.Sprintf("[tasks.build]\ndir = %s\nsources = [\"src/**\"]\ngenerates = [\"out.stamp\"]\nrun = \"true\"\n",
		tomlString(treeDir(e)))
	return e.writeTasks(doc)
}

// treeDir is where the source tree is: beside the benchmark directories,
// in the run's temporary directory, so that it is made once per run and
// removed with the rest.
func treeDir(e *env) string {
	return filepath.Join(filepath.Dir(e.dir), "uptodate-tree")
}

// treeMu serialises makeTree.
var treeMu sync.Mutex

// makeTree writes the tree under dir unless it is there already: src/
// with treeFiles files of treeFileSize bytes, each different, and the
// file out.stamp that the task generates. It reports whether it made the
// tree, and how long that took.
func makeTree(ctx context.Context, dir string) (made bool, took time.Duration, err error) {
	treeMu.Lock()
	defer treeMu.Unlock()
	done := filepath.Join(dir, "tree.complete")
	if _, err := os.Stat(done); err == nil {
		return false, 0, nil
	}
	start := time.Now()
	if err := os.RemoveAll(dir); err != nil {
		return false, 0, err
	}
	files := make(chan int)
	errs := make(chan error, runtime.NumCPU()) // one per worker at most
	var wg sync.WaitGroup
	for range cap(errs) {
		wg.Go(func() {
			buf := bytes.Repeat([]byte("0123456789abcdef"), treeFileSize/16)
			failed := false
			for i := range files {
				if failed {
					continue
				}
				// The first line differs from file to file.
				copy(buf, fmt.Sprintf("file %06d\n", i))
				if err := os.WriteFile(treeFile(dir, i), buf, 0o644); err != nil {
					errs <- err
					failed = true
				}
			}
		})
	}
	var ferr error
feed:
	for i := range treeFiles {
		if i%treeFilesPerDir == 0 {
			if ferr = os.MkdirAll(filepath.Dir(treeFile(dir, i)), 0o755); ferr != nil {
				break
			}
		}
		select {
		case files <- i:
		case <-ctx.Done():
			ferr = ctx.Err()
			break feed
		}
	}
	close(files)
	wg.Wait()
	close(errs)
	for err := range errs {
		ferr = errors.Join(ferr, err)
	}
	if ferr != nil {
		return false, 0, ferr
	}
	for _, f := range []string{"out.stamp", "tree.complete"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			return false, 0, err
		}
	}
	return true, time.Since(start), nil
}

// treeFile returns the path of file i of the tree under dir:
// src/aNN/bNN/fNNN.txt, treeFilesPerDir to a directory.
func treeFile(dir string, i int) string {
	d := i / treeFilesPerDir
	return filepath.Join(dir, "src", fmt.Sprintf("a%02d", d%10), fmt.Sprintf("b%02d", d/10), fmt.Sprintf("f%03d.txt", i%treeFilesPerDir))
}

// editSource rewrites one file of the tree with contents that depend on
// n: the same size, new contents and modification time.
func editSource(e *env, n int) error {
	buf := bytes.Repeat([]byte("edited, "), treeFileSize/8)
	copy(buf, fmt.Sprintf("edit %08d\n", n))
	return os.WriteFile(treeFile(treeDir(e), treeFiles/2), buf, 0o644)
}

// timeBuild times `gotask build` and checks that it skipped the task, or
// ran it, as upToDate says it should have.
func timeBuild(ctx context.Context, e *env, upToDate bool) (sample, error) {
	c := e.command(ctx, e.gotask, "-f", "tasks.toml", "build")
	smp, err := timeCmd(c)
	if err != nil {
		return smp, err
	}
	stderr := c.Stderr.(*bytes.Buffer).String()
	if skipped := strings.Contains(stderr, "is up to date"); skipped != upToDate {
		if upToDate {
			return smp, fmt.Errorf("gotask build ran the task, which should have been up to date; stderr %q", stderr)
		}
		return smp, fmt.Errorf("gotask build skipped the task, which should have run; stderr %q", stderr)
	}
	return smp, nil
}

// checkBuild checks, untimed, that gotask build skips the task (upToDate)
// after one run to record it, or that it runs the task.
func checkBuild(ctx context.Context, e *env, upToDate bool) error {
	if upToDate {
		if _, err := e.time(ctx, e.gotask, "-f", "tasks.toml", "build"); err != nil {
			return err
		}
	}
	_, err := timeBuild(ctx, e, upToDate)
	return err
}
