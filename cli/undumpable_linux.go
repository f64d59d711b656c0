package cli

import "golang.org/x/sys/unix"

// undumpable makes this process not dumpable: no core dump, and no other
// process of the same user may ptrace it or read its memory or
// environment (/proc/PID/mem, /proc/PID/environ, which hold the sudo
// password). Programs gotask starts are dumpable again, as exec resets
// the flag.
func undumpable() error {
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
