package runner

import (
	"context"
	"io"
)

// A Tunneler carries TCP connections between this machine and the place a
// runner runs commands, like ssh -L and ssh -R. runner/remote implements it
// over the host's SSH connection. Both listeners bind to the loopback
// address only, so a tunnel never opens a port to the network.
//
// Forward listens on 127.0.0.1:localPort here and carries each connection
// to target ("host:port", as the runner's side resolves it). Reverse asks
// the runner's side to listen on its 127.0.0.1:remotePort and carries each
// connection back to target as this machine resolves it. Closing the
// returned Closer closes the listener and every connection it carried.
type Tunneler interface {
	Forward(ctx context.Context, localPort int, target string) (io.Closer, error)
	Reverse(ctx context.Context, remotePort int, target string) (io.Closer, error)
}
