//go:build !linux && !darwin && !freebsd

package service

import (
	"errors"
	"net"
)

// peerCred is unknown on systems without SO_PEERCRED or LOCAL_PEERCRED:
// there, the control socket's mode (0600) and its directory's (0700)
// alone keep other users out.
func peerCred(*net.UnixConn) (uid, pid int, err error) {
	return 0, 0, errors.ErrUnsupported
}
