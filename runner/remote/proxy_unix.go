//go:build unix

package remote

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts cmd in a process group of its own, so that
// signalGroup reaches whatever it starts too.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup hangs up cmd's process group, or kills it.
func signalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGHUP
	if kill {
		sig = syscall.SIGKILL
	}
	syscall.Kill(-cmd.Process.Pid, sig)
}
