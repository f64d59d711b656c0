// Package watch reports changes to the files under a directory that a
// list of globs takes, for gotask --watch and for services' watch key.
//
//	w, err := watch.New(root, []string{"**/*.go", "!**/*_test.go"})
//	if err != nil { ... }
//	defer w.Close()
//	for ch := range w.Events() {
//		// ch.Paths changed, created or removed
//	}
//
// Patterns follow fingerprint.Match, with "!" excluding (and excluding
// everything below a directory it matches), so that a watcher reacts to
// exactly the files a task's sources fingerprint. Directories named .git
// and .gotask are never watched.
//
// On Linux the watcher uses inotify: one watch per directory that a
// pattern can reach, added for new directories as they appear (the files
// already in such a directory count as created, since they may have been
// written before its watch existed). A full kernel queue (IN_Q_OVERFLOW)
// is reported as a Change with Overflow set. Running out of inotify
// watches is an error naming the sysctl to raise
// (fs.inotify.max_user_watches). On other systems the tree is polled
// (Config.Poll, default 500 ms), comparing each file's size and
// modification time.
//
// Changes are debounced: a Change is sent once no event has come for
// Config.Debounce (default 100 ms), with every path seen since the last
// Change, so a save that writes, renames and chmods is one Change, and a
// checkout touching a thousand files is one too.
package watch
