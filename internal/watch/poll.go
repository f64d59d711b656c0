package watch

import (
	"io/fs"
	"time"
)

// poller, the backend where inotify is not available (and in tests with
// Config.poll), watches by walking the tree every Config.Poll and
// comparing each file's size and modification time with the walk
// before.
type poller struct {
	old map[string]fileState // the first walk, made in newPoller
}

type fileState struct {
	size int64
	mod  int64 // modification time, in nanoseconds
}

// newPoller walks the tree once, so that a change made once New has
// returned is seen.
func newPoller(w *Watcher) (*poller, error) {
	old, err := snapshot(w)
	if err != nil {
		return nil, err
	}
	return &poller{old: old}, nil
}

func (*poller) close() error { return nil }

// snapshot returns the size and modification time of each file the
// patterns take.
func snapshot(w *Watcher) (map[string]fileState, error) {
	m := map[string]fileState{}
	err := w.walk("", func(string) error { return nil }, func(p string, info fs.FileInfo) {
		m[p] = fileState{info.Size(), info.ModTime().UnixNano()}
	})
	return m, err
}

func (p *poller) run(w *Watcher) error {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return nil
		case <-t.C:
		}
		cur, err := snapshot(w)
		if err != nil {
			return err
		}
		var c Change
		for path, s := range cur {
			if o, ok := p.old[path]; !ok || o != s {
				c.Paths = append(c.Paths, path)
			}
		}
		for path := range p.old {
			if _, ok := cur[path]; !ok {
				c.Paths = append(c.Paths, path)
			}
		}
		p.old = cur
		if !w.send(c) {
			return nil
		}
	}
}
