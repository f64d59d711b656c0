package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gotask/gotask/internal/fingerprint"
)

// DefaultDebounce is how long a Watcher waits after the last event
// before it sends a Change, when Config.Debounce is zero.
const DefaultDebounce = 100 * time.Millisecond

// DefaultPoll is how often the polling watcher (systems without
// inotify) looks at the tree, when Config.Poll is zero.
const DefaultPoll = 500 * time.Millisecond

// A Change is a batch of changes to the watched files.
type Change struct {
	// Paths are the files that were written, created, removed or renamed
	// (either name), relative to the root, slash-separated, sorted, each
	// once. A directory that was removed or renamed away is listed by its
	// own path, since the files it held are gone without an event each.
	Paths []string
	// Overflow reports that the kernel dropped events: anything may have
	// changed. Paths may then be empty.
	Overflow bool
}

// String describes the change for a person: "src/a.go", "src/a.go and
// 2 more", or "files" after an overflow.
func (c Change) String() string {
	switch {
	case len(c.Paths) == 0:
		return "files"
	case len(c.Paths) == 1:
		return c.Paths[0]
	}
	return fmt.Sprintf("%s and %d more", c.Paths[0], len(c.Paths)-1)
}

// Config configures a Watcher. The zero value is ready to use.
type Config struct {
	// Debounce is how long no event must come before a Change is sent.
	// Zero means DefaultDebounce.
	Debounce time.Duration
	// Poll is the polling watcher's interval, used only where inotify is
	// not available. Zero means DefaultPoll.
	Poll time.Duration
}

// A Watcher watches a tree. Its methods are safe for concurrent use.
type Watcher struct {
	root   string
	match  *fingerprint.Matcher
	cfg    Config
	events chan Change
	raw    chan Change // undebounced batches from the backend
	done   chan struct{}
	closed chan struct{} // closed once the loop has ended
	once   sync.Once

	mu  sync.Mutex
	err error

	be backend
}

// backend is what a system's watcher provides: it sends batches of
// changed paths on w.raw until w.done is closed.
type backend interface {
	run(w *Watcher) error
	close() error
}

// New watches the files under root that patterns take, with the
// defaults of Config. See Config.New.
func New(root string, patterns []string) (*Watcher, error) {
	return Config{}.New(root, patterns)
}

// New watches the files under root that patterns take (fingerprint
// globs, "!" to exclude). A malformed pattern, a root that is not a
// directory, or a tree that cannot be watched is an error. The Watcher
// runs until Close.
func (c Config) New(root string, patterns []string) (*Watcher, error) {
	if len(patterns) == 0 {
		return nil, errors.New("no patterns to watch")
	}
	m, err := fingerprint.NewMatcher(patterns)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("watching %s: not a directory", root)
	}
	if c.Debounce <= 0 {
		c.Debounce = DefaultDebounce
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	w := &Watcher{
		root:   abs,
		match:  m,
		cfg:    c,
		events: make(chan Change),
		raw:    make(chan Change, 16),
		done:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	be, err := newBackend(w)
	if err != nil {
		return nil, err
	}
	w.be = be
	go func() {
		if err := be.run(w); err != nil {
			w.fail(err)
		}
	}()
	go w.debounce()
	return w, nil
}

// Events returns the channel of debounced changes. It is closed when the
// Watcher stops: after Close, or on an error that Err then returns.
func (w *Watcher) Events() <-chan Change { return w.events }

// Err returns the error that stopped the Watcher, or nil.
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close stops the Watcher and releases its kernel resources. Events is
// closed once Close returns.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		close(w.done)
		err = w.be.close()
	})
	<-w.closed
	return err
}

// fail records err and stops the Watcher.
func (w *Watcher) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.once.Do(func() {
		close(w.done)
		w.be.close()
	})
}

// send hands a batch to the debouncer; false once the Watcher stops.
func (w *Watcher) send(c Change) bool {
	if len(c.Paths) == 0 && !c.Overflow {
		return true
	}
	select {
	case w.raw <- c:
		return true
	case <-w.done:
		return false
	}
}

// debounce merges batches until none came for cfg.Debounce, then offers
// the merged Change on events, merging on while nobody takes it.
func (w *Watcher) debounce() {
	defer close(w.closed)
	defer close(w.events)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	pending := map[string]bool{}
	overflow, ready := false, false
	for {
		var out chan<- Change
		var next Change
		if ready {
			out = w.events
			next = Change{Overflow: overflow}
			for p := range pending {
				next.Paths = append(next.Paths, p)
			}
			slices.Sort(next.Paths)
		}
		select {
		case c := <-w.raw:
			for _, p := range c.Paths {
				pending[p] = true
			}
			overflow = overflow || c.Overflow
			ready = false
			timer.Reset(w.cfg.Debounce)
		case <-timer.C:
			ready = len(pending) > 0 || overflow
		case out <- next:
			clear(pending)
			overflow, ready = false, false
		case <-w.done:
			timer.Stop()
			return
		}
	}
}

// skipDir reports whether a directory named name is never watched.
func skipDir(name string) bool {
	return name == ".git" || name == ".gotask"
}

// join joins a relative directory and a name.
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// enter reports whether the directory rel is to be watched.
func (w *Watcher) enter(rel string) bool {
	if rel != "" {
		for el := range strings.SplitSeq(rel, "/") {
			if skipDir(el) {
				return false
			}
		}
	}
	return w.match.Enter(rel)
}

// walk calls dirFn for each directory at or below rel that is to be
// watched, and fileFn (when not nil) for each file in them that the
// patterns take. A directory that vanished during the walk is skipped.
func (w *Watcher) walk(rel string, dirFn func(rel string) error, fileFn func(rel string, info fs.FileInfo)) error {
	if !w.enter(rel) {
		return nil
	}
	if err := dirFn(rel); err != nil {
		return err
	}
	ents, err := os.ReadDir(filepath.Join(w.root, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		p := join(rel, e.Name())
		if e.IsDir() {
			if err := w.walk(p, dirFn, fileFn); err != nil {
				return err
			}
			continue
		}
		if fileFn != nil && w.match.Match(p) {
			info, err := e.Info()
			if err != nil {
				continue
			}
			fileFn(p, info)
		}
	}
	return nil
}
