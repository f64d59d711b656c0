// Package fingerprint decides whether a task's work is already done, the
// way make or go-task's sources and generates do, but fast on large
// trees.
//
// A task declares the globs of its sources and of what it generates (a
// Spec). Store.Check walks the sources and compares their fingerprint,
// a SHA-256 over each file's path relative to the task directory and
// contents, and over an opaque definition the caller provides, with the
// one that Store.Record wrote after the last successful run of the same
// key. It reports why the task is out of date ("src/a.go changed",
// "src/b.go added", "bin/app (generated) is missing"), or that it is up
// to date:
//
//	st, err := store.Check(ctx, key, spec)
//	if err != nil { ... }
//	if !st.UpToDate {
//		// run the task; on success:
//		err = store.Record(ctx, st)
//	}
//
// # Speed
//
// Like git's index, a state file keeps each source's size, modification
// and change times, inode and content hash; a file whose stat is
// unchanged is not read. So a check of an unchanged tree costs a
// directory walk with one fstatat(2) per source file. The walk reads
// directories with os.File.ReadDir and prunes those under which no
// include pattern can match, and those excluded by a "!" pattern or by
// .gitignore. Files that must be read are hashed on runtime.GOMAXPROCS
// goroutines. A file modified no earlier than its state file was written
// is read again ("racily clean"), because a second change within the
// file system's clock resolution would not show in its stat.
//
// A task that was never recorded is not hashed by Check at all: it is
// out of date anyway, and Record, which walks the sources again after
// the run, hashes them once.
//
// # Record after the run
//
// Record fingerprints the sources as they are after the run, not as Check
// saw them, so that a task which formats or regenerates its own sources
// is up to date after one run rather than two (go-task does the same).
// Files unchanged since Check are not read again. An edit made by someone
// else while the task runs is therefore taken as done; run the task again
// by hand in that case.
//
// # State files
//
// Each key (a task and its argument values) has one file in Store.Dir,
// named by the key's safe characters and 32 hex digits of its SHA-256.
// It is written to a temporary file and renamed over the old one, so
// concurrent processes checking and recording the same key never see a
// torn file; the last Record wins. It ends with a CRC-32C; a file that
// fails it (say, cut short by a crash, as files are not fsynced) counts
// as no record. A crash between writing and renaming may leave a *.tmp
// file behind, which is harmless. The binary format is described at
// record.encode.
//
// # .gitignore
//
// With Spec.UseGitignore, .gitignore files in the task directory, below
// it and above it up to the repository root (the nearest directory with
// a .git entry), and the root's .git/info/exclude, are honoured: blank
// lines and # comments, "!" negation (the last matching rule wins, a
// deeper file over a shallower), a trailing "/" for directories only,
// patterns anchored by a leading or inner "/", "**" elements, "\"
// escapes, and the rule that nothing inside an ignored directory can be
// re-included. Known gaps: the user's global excludes (core.excludesFile)
// are not read; files that git tracks although ignored are still
// skipped, since the git index is not consulted; malformed patterns are
// skipped silently; and the task directory itself is never taken as
// ignored, even if a rule above it says so.
//
// # Other gaps
//
// Patterns cannot leave the task directory (".." and absolute paths are
// errors). Symbolic links to files are followed and count as the file
// they point to; links to directories are not followed. Only regular
// files are sources. File modes are not part of the fingerprint. On
// systems other than Linux the fast path compares size and modification
// time only, and on Windows a Record may fail while another process is
// reading the same state file.
package fingerprint
