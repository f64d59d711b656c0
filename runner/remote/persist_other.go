//go:build !linux

package remote

import "net"

const persistSupported = false

var errNoPersist = ErrPersistUnsupported

func privateDir(string) error                    { return errNoPersist }
func peerUID(net.Conn) (int, error)              { return -1, errNoPersist }
func listenPrivate(string) (net.Listener, error) { return nil, errNoPersist }
