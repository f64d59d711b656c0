package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"

	"github.com/gotask/gotask/runner"
)

var _ runner.Tunneler = (*Client)(nil)

// Forward listens on 127.0.0.1:localPort and carries each connection over
// an SSH connection of its own to target as the host resolves it. The
// tunnel's connection is apart from the command sessions, so closing the
// tunnel ends every connection it carried and nothing else.
func (c *Client) Forward(ctx context.Context, localPort int, target string) (io.Closer, error) {
	if err := checkTunnel(localPort, target); err != nil {
		return nil, fmt.Errorf("forward %d to %s on %s: %w", localPort, target, c.name, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(localPort)))
	if err != nil {
		return nil, fmt.Errorf("forward %d to %s on %s: %w; is the port already in use?", localPort, target, c.name, err)
	}
	cn, err := c.dialConn(ctx, false)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("forward %d to %s on %s: %w", localPort, target, c.name, err)
	}
	t := newTunnel(ln, cn)
	go t.serve(func() (net.Conn, error) { return cn.client.Dial("tcp", target) })
	return t, nil
}

// Reverse asks the host to listen on its 127.0.0.1:remotePort and carries
// each connection back to target as this machine resolves it, over an SSH
// connection of its own. The host's sshd must allow it (AllowTcpForwarding
// yes or remote).
func (c *Client) Reverse(ctx context.Context, remotePort int, target string) (io.Closer, error) {
	if err := checkTunnel(remotePort, target); err != nil {
		return nil, fmt.Errorf("reverse %d to %s on %s: %w", remotePort, target, c.name, err)
	}
	cn, err := c.dialConn(ctx, true) // the host's listener must not outlive the run
	if err != nil {
		return nil, fmt.Errorf("reverse %d to %s on %s: %w", remotePort, target, c.name, err)
	}
	ln, err := cn.client.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(remotePort)))
	if err != nil {
		cn.fail(errors.New("tunnel refused"))
		return nil, fmt.Errorf("%s refused to listen on its port %d: %w; check AllowTcpForwarding in its sshd_config and that the port is free", c.name, remotePort, err)
	}
	t := newTunnel(ln, cn)
	var d net.Dialer
	go t.serve(func() (net.Conn, error) { return d.DialContext(t.ctx, "tcp", target) })
	return t, nil
}

// checkTunnel refuses a port out of range and a target that is not
// host:port, before anything listens.
func checkTunnel(port int, target string) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("port %d is out of range 1-65535", port)
	}
	host, p, err := net.SplitHostPort(target)
	if err != nil || host == "" {
		return fmt.Errorf("target %q is not host:port", target)
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("target %q: port is not a number in 1-65535", target)
	}
	return nil
}

// tunnel is one listener and the SSH connection its connections go over.
type tunnel struct {
	ln     net.Listener
	cn     *conn
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	open   map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	once   sync.Once
}

func newTunnel(ln net.Listener, cn *conn) *tunnel {
	ctx, cancel := context.WithCancel(context.Background())
	return &tunnel{ln: ln, cn: cn, ctx: ctx, cancel: cancel, open: map[net.Conn]struct{}{}}
}

// serve accepts until the listener closes, joining each accepted
// connection to one from dial.
func (t *tunnel) serve(dial func() (net.Conn, error)) {
	for {
		in, err := t.ln.Accept()
		if err != nil {
			return
		}
		if !t.track(in) {
			in.Close()
			return
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer t.untrack(in)
			out, err := dial()
			if err != nil {
				return // the client sees its connection closed
			}
			if !t.track(out) {
				out.Close()
				return
			}
			defer t.untrack(out)
			join(in, out)
		}()
	}
}

// join copies both ways until either side ends, then closes both.
func join(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

func (t *tunnel) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.open[c] = struct{}{}
	return true
}

func (t *tunnel) untrack(c net.Conn) {
	c.Close()
	t.mu.Lock()
	delete(t.open, c)
	t.mu.Unlock()
}

// Close stops listening, ends every carried connection and the tunnel's
// SSH connection, and waits for them. It is idempotent.
func (t *tunnel) Close() error {
	t.once.Do(func() {
		t.mu.Lock()
		t.closed = true
		for c := range t.open {
			c.Close()
		}
		t.mu.Unlock()
		t.cancel()
		t.ln.Close()
		t.cn.fail(errors.New("tunnel closed"))
		t.wg.Wait()
	})
	return nil
}
