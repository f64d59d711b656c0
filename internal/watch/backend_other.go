//go:build !linux

package watch

func newBackend(w *Watcher) (backend, error) { return newPoller(w) }
