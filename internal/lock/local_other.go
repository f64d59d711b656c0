//go:build !unix

package lock

import "errors"

// Local is a lock on this machine, held.
type Local struct{}

// TryLocal fails: locks on this machine need flock(2).
func TryLocal(dir, name string, me Holder) (*Local, *Holder, error) {
	return nil, nil, errors.New("locks on this machine need flock(2), which this system lacks")
}

// Unlock does nothing.
func (l *Local) Unlock() error { return nil }

// alive cannot tell here: a lock is taken as held.
func alive(int) bool { return true }
