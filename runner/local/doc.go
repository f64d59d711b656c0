// Package local runs gotask commands on this machine.
//
// A command runs as "sh -c CMD" in its own process group. When its input
// is a terminal (or a pseudo-terminal is asked for) it gets a fresh
// pseudo-terminal from github.com/creack/pty: the user's terminal is put
// in raw mode while it runs and restored on every exit path, keystrokes
// (Ctrl-C included) are forwarded, and the window size follows SIGWINCH.
// Otherwise it runs with pipes, stdout and stderr kept apart.
//
// Cancelling the context interrupts the whole process group (SIGINT), a
// timeout terminates it (SIGTERM), and either is followed by SIGKILL after
// a grace period, so no process of the command is left behind.
package local
