//go:build !linux

package service

import (
	"context"
	"errors"
	"net"
)

// peerCred is unknown on systems without SO_PEERCRED: there, the
// control socket's mode (0600) and its directory's (0700) alone keep
// other users out.
func peerCred(*net.UnixConn) (uid, pid int, err error) {
	return 0, 0, errors.ErrUnsupported
}

// procHandle watches a process by its pid.
type procHandle struct{ pid int }

func watchProcess(pid int) procHandle { return procHandle{pid} }

// wait returns once the process has ended, or ctx ends.
func (h procHandle) wait(ctx context.Context) error { return waitExitPolling(ctx, h.pid) }

func (h procHandle) close() {}
