//go:build !linux

package remote

import (
	"errors"
	"net"
)

var errNoPersist = errors.New("--persist (the connection mux) is only supported on Linux for now")

func privateDir(string) error                    { return errNoPersist }
func peerUID(net.Conn) (int, error)              { return -1, errNoPersist }
func listenPrivate(string) (net.Listener, error) { return nil, errNoPersist }
