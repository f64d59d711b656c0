//go:build !unix

package remote

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}

// signalGroup kills cmd: there is no hangup to send.
func signalGroup(cmd *exec.Cmd, kill bool) {
	cmd.Process.Kill()
}
