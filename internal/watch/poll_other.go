//go:build !linux

package watch

import (
	"io/fs"
	"time"
)

// poller watches by walking the tree every Config.Poll and comparing
// each file's size and modification time.
type poller struct{}

func newBackend(*Watcher) (backend, error) { return poller{}, nil }

func (poller) close() error { return nil }

type fileState struct {
	size int64
	mod  time.Time
}

func (poller) run(w *Watcher) error {
	snap := func() (map[string]fileState, error) {
		m := map[string]fileState{}
		err := w.walk("", func(string) error { return nil }, func(p string, info fs.FileInfo) {
			m[p] = fileState{info.Size(), info.ModTime()}
		})
		return m, err
	}
	old, err := snap()
	if err != nil {
		return err
	}
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return nil
		case <-t.C:
		}
		cur, err := snap()
		if err != nil {
			return err
		}
		var c Change
		for p, s := range cur {
			if o, ok := old[p]; !ok || o != s {
				c.Paths = append(c.Paths, p)
			}
		}
		for p := range old {
			if _, ok := cur[p]; !ok {
				c.Paths = append(c.Paths, p)
			}
		}
		old = cur
		if !w.send(c) {
			return nil
		}
	}
}
