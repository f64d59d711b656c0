package task

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/gotask/gotask/internal/lock"
	"github.com/gotask/gotask/runner"
)

// LocksDirName is the directory under StateDirName that holds the lock
// files of tasks with a lock.
const LocksDirName = "locks"

// lockPoll is how often a waiting gotask tries a held lock again here;
// remoteLockPoll on a host, where each try is a command.
const (
	lockPoll       = 100 * time.Millisecond
	remoteLockPoll = 500 * time.Millisecond
)

// LockHeldError reports a task's lock held by someone else, when the
// Executor does not wait (NoWait).
type LockHeldError struct {
	Lock   string
	Host   string // "" for this machine
	Holder string // "pid 123 (alice, since 12:01:02)"
}

func (e *LockHeldError) Error() string {
	return fmt.Sprintf("lock %s held by %s", e.Lock, e.Holder)
}

// heldLocksKey keys the locks the tasks of a call chain hold, in a
// context, so that a task called from a task holding the same lock does
// not wait for itself.
type heldLocksKey struct{}

func holdsLock(ctx context.Context, key string) bool {
	m, _ := ctx.Value(heldLocksKey{}).(map[string]bool)
	return m[key]
}

func withLock(ctx context.Context, key string) context.Context {
	old, _ := ctx.Value(heldLocksKey{}).(map[string]bool)
	m := make(map[string]bool, len(old)+1)
	for k := range old {
		m[k] = true
	}
	m[key] = true
	return context.WithValue(ctx, heldLocksKey{}, m)
}

// lockLocal takes t's lock on this machine, waiting while another process
// (or another task of this run) holds it, saying once who holds it; under
// NoWait it fails at once instead. It returns the context recording the
// lock and the function releasing it (never nil).
func (e *execution) lockLocal(ctx context.Context, t *Task, stderr io.Writer) (context.Context, func(), error) {
	key := "\x00" + t.Lock
	if t.Lock == "" || e.Dry || holdsLock(ctx, key) {
		return ctx, func() {}, nil
	}
	dir := filepath.Join(e.Registry.Dir, StateDirName, LocksDirName)
	said := false
	for try := 1; ; try++ {
		l, h, err := lock.TryLocal(dir, t.Lock, lock.Me())
		if err != nil {
			return ctx, func() {}, &TaskError{Task: t.Name, Err: err}
		}
		if l != nil {
			return withLock(ctx, key), func() { l.Unlock() }, nil
		}
		// A holder that has not written its name yet is about to: ask
		// again a few times before saying "another gotask".
		if h != nil || try >= 10 {
			if e.NoWait {
				return ctx, func() {}, &TaskError{Task: t.Name, Err: &LockHeldError{Lock: t.Lock, Holder: h.String()}}
			}
			if !said {
				fmt.Fprintf(stderr, "gotask: waiting for lock %s held by %s\n", t.Lock, h)
				said = true
			}
		}
		if err := sleepCtx(ctx, lockPoll); err != nil {
			return ctx, func() {}, &TaskError{Task: t.Name, Err: fmt.Errorf("waiting for lock %s: %w", t.Lock, err)}
		}
	}
}

// lockRemote takes t's lock on the host r runs on (see lock.TryRemote),
// waiting as lockLocal does. A stale lock it recovers is reported on
// stderr.
func (e *execution) lockRemote(ctx context.Context, t *Task, host string, r runner.Runner, stderr io.Writer) (context.Context, func(), error) {
	key := host + "\x00" + t.Lock
	if t.Lock == "" || e.Dry || r == nil || holdsLock(ctx, key) {
		return ctx, func() {}, nil
	}
	said := false
	for {
		me := lock.Me()
		res, err := lock.TryRemote(ctx, r, t.Lock, me, t.LockStale)
		if err != nil {
			if ctx.Err() != nil {
				// Stopped mid-try: the lock may have been made with our
				// token, so take it away again (a no-op otherwise).
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				lock.ReleaseRemote(rctx, r, t.Lock, me)
				cancel()
			}
			return ctx, func() {}, &TaskError{Task: t.Name, Host: host, Err: err}
		}
		if res.Acquired {
			if res.Recovered != nil {
				fmt.Fprintf(stderr, "gotask: recovered lock %s on %s held by %s: %s\n", t.Lock, host, res.Recovered, res.Why)
			}
			release := func() {
				// The run's context may be cancelled (Ctrl-C): the lock is
				// removed anyway, within a bound.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				if err := lock.ReleaseRemote(rctx, r, t.Lock, me); err != nil {
					fmt.Fprintf(stderr, "gotask: task %q on %s: removing lock %s: %v\n", t.Name, host, t.Lock, err)
				}
			}
			return withLock(ctx, key), release, nil
		}
		if e.NoWait {
			return ctx, func() {}, &TaskError{Task: t.Name, Host: host, Err: &LockHeldError{Lock: t.Lock, Host: host, Holder: res.Holder.String()}}
		}
		if !said {
			fmt.Fprintf(stderr, "gotask: waiting for lock %s on %s held by %s\n", t.Lock, host, res.Holder)
			said = true
		}
		if err := sleepCtx(ctx, remoteLockPoll); err != nil {
			return ctx, func() {}, &TaskError{Task: t.Name, Host: host, Err: fmt.Errorf("waiting for lock %s: %w", t.Lock, err)}
		}
	}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
