// Package local runs gotask commands on this machine.
//
// A command runs as "sh -c CMD" in its own process group. When its input
// is a terminal (or a pseudo-terminal is asked for) it gets a fresh
// pseudo-terminal: the user's terminal is put in raw mode while it runs
// and restored on every exit path, keystrokes (Ctrl-C included) are
// forwarded, and the window size follows SIGWINCH. Otherwise it runs with
// pipes, stdout and stderr kept apart.
//
// The goroutine that runs the command moves its output itself: one
// poll(2) waits for output (the pseudo-terminal, or both pipes), for
// input under a pseudo-terminal, and (through a pidfd on Linux) for the
// command's exit, so that a short command costs no goroutines and no
// hand-offs between them. Input to a pipe, when it must be copied, goes
// through a goroutine of its own. Either way a
// wait ends at once when the command does, even if a background child
// still holds the command's terminal or pipes open, and input left
// unread when a command ends stays for whoever reads next.
//
// Cancelling the context interrupts the whole process group (SIGINT), a
// timeout or a failed watcher terminates it (SIGTERM), and either is
// followed by SIGKILL after a grace period, so no process of the command
// is left behind. The errors are those of runner/remote for the same
// events (see runner/internal/capture).
package local
