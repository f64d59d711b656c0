// Package lock keeps two gotask runs from doing the same thing at once:
// a task with lock = true (or a name) holds the lock while it runs.
//
// On this machine a lock is flock(2) on DIR/NAME.lock (Local), a file
// created 0600 in a 0700 directory. The kernel releases it when its
// holder exits in any way, SIGKILL included, so a local lock is never
// stale. Its holder writes who it is (Holder) into the file, for the
// message of whoever waits.
//
// On a host a lock is a directory, ~/.gotask-locks/NAME, made with
// mkdir, which either creates it or fails, atomically, with an info
// file inside naming the holder (Remote). The holder removes it when it
// is done; one whose holder died (a gotask on the same machine whose
// process is gone) or that is older than a stale bound is recovered.
package lock
