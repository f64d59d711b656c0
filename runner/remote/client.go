package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/gotask/gotask/runner"
)

// Client runs commands on one host and copies files to and from it. It
// holds one or more SSH connections to the host and opens a session per
// command on them: at most Config.MaxSessions per connection, opening
// another connection when they are all busy or the server refuses a
// session, and reconnecting when a connection has died between commands.
// A Client is safe for concurrent use; it is a runner.Runner and a
// runner.Copier.
type Client struct {
	name string // the host string as given
	ep   *endpoint
	cfg  *Config
	run  *runShared

	mu      sync.Mutex
	conns   []*conn
	dialing bool
	capped  bool          // an extra connection failed: wait for a free session instead
	changed chan struct{} // closed and replaced whenever a session slot frees up
	closed  bool

	noHasher atomic.Bool // the host has neither openssl nor sha256sum: verify over SFTP

	nonce string       // in the process id reports of this Client's commands
	shell atomic.Int32 // the login shell's kind (shellUnknown ...), learnt from a report
}

var (
	_ runner.Runner = (*Client)(nil)
	_ runner.Copier = (*Client)(nil)
)

// Dial connects to host, a host string as ParseHost reads it or an alias
// from ssh_config, and authenticates. cfg may be nil for the defaults.
// The connect timeout covers every hop's TCP connection and SSH
// handshake; ctx bounds the whole dial but not the Client's later life.
func Dial(ctx context.Context, host string, cfg *Config) (*Client, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	sc, err := loadSSHConfig(cfg)
	if err != nil {
		return nil, err
	}
	return dialResolved(ctx, sc, newRunShared(cfg), cfg, host)
}

// runShared is what every connection of one Pool, or of one Dial, shares:
// the parsed known_hosts files and the turns to set up a connection.
type runShared struct {
	keys       *knownHosts
	handshakes chan struct{} // holds a token per connection being set up
}

func newRunShared(cfg *Config) *runShared {
	n := cfg.MaxHandshakes
	if n <= 0 {
		n = DefaultMaxHandshakesPerCPU * runtime.GOMAXPROCS(0)
	}
	return &runShared{keys: newKnownHosts(), handshakes: make(chan struct{}, n)}
}

// turn waits until fewer than the bound of connections are being set up
// and returns the function that ends this one's turn.
func (r *runShared) turn(ctx context.Context, where string) (func(), error) {
	select {
	case r.handshakes <- struct{}{}:
		return func() { <-r.handshakes }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("connecting to %s: %w", where, context.Cause(ctx))
	}
}

func dialResolved(ctx context.Context, sc *sshConfig, run *runShared, cfg *Config, host string) (*Client, error) {
	ep, err := resolve(sc, cfg, host)
	if err != nil {
		return nil, err
	}
	c := &Client{name: host, ep: ep, cfg: cfg, run: run, changed: make(chan struct{}), nonce: newNonce()}
	cn, err := c.dialConn(ctx, false)
	if err != nil {
		return nil, err
	}
	cn.agent = ep.forwardAgent
	c.conns = []*conn{cn}
	return c, nil
}

// Host returns the host string the Client was dialled with; it is the
// Host of every Result and error.
func (c *Client) Host() string { return c.name }

// Close closes every connection of the Client. Commands still running
// fail with runner.ErrOutcomeUnknown. Close is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	conns := c.conns
	c.conns = nil
	c.broadcast()
	c.mu.Unlock()
	for _, cn := range conns {
		cn.fail(errors.New("client closed"))
	}
	return nil
}

// Conns reports how many connections the Client holds open now.
func (c *Client) Conns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, cn := range c.conns {
		if cn.alive() {
			n++
		}
	}
	return n
}

// broadcast wakes every goroutine waiting for a session slot. c.mu held.
func (c *Client) broadcast() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// acquire reserves a session slot on a live connection, dialling a new
// connection when all are full. A connection that carries the ssh-agent
// (agent) serves only commands that forward it: sshd offers a forwarded
// agent to every later session of the connection, and its root can use
// it as long as the connection lasts.
func (c *Client) acquire(ctx context.Context, agent bool) (*conn, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, fmt.Errorf("connection to %s already closed; get a new client", c.name)
		}
		live := c.conns[:0]
		for _, cn := range c.conns {
			if cn.alive() {
				live = append(live, cn)
			} else {
				c.capped = false
			}
		}
		c.conns = live
		same := 0
		for _, cn := range c.conns {
			if cn.agent != agent {
				continue
			}
			same++
			if !cn.blocked && cn.active < cn.limit {
				cn.active++
				c.mu.Unlock()
				return cn, nil
			}
		}
		if c.dialing || (c.capped && same > 0) {
			ch := c.changed
			c.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("waiting for a free SSH session on %s: %w", c.name, context.Cause(ctx))
			}
		}
		c.dialing = true
		c.mu.Unlock()

		cn, err := c.dialConn(ctx, agent) // a forwarded agent never goes through the mux

		c.mu.Lock()
		c.dialing = false
		c.broadcast()
		if err != nil {
			if same == 0 || ctx.Err() != nil {
				c.mu.Unlock()
				return nil, err
			}
			// The connections we have are busy, not gone: wait for them.
			c.capped = true
			c.mu.Unlock()
			continue
		}
		if c.closed {
			c.mu.Unlock()
			cn.fail(errors.New("client closed"))
			continue
		}
		cn.agent = agent
		c.conns = append(c.conns, cn)
		c.mu.Unlock()
	}
}

// release gives back a slot taken by acquire.
func (c *Client) release(cn *conn) {
	c.mu.Lock()
	cn.active--
	cn.blocked = false
	c.broadcast()
	c.mu.Unlock()
}

// openSession returns a new session and the connection it is on; the
// caller must close the session and release the connection. The session
// has the ssh-agent when forwardAgent is set or ssh_config's ForwardAgent
// applies.
func (c *Client) openSession(ctx context.Context, forwardAgent bool) (*conn, *ssh.Session, error) {
	forwardAgent = forwardAgent || c.ep.forwardAgent
	for attempt := 1; ; attempt++ {
		cn, err := c.acquire(ctx, forwardAgent)
		if err != nil {
			return nil, nil, err
		}
		s, err := cn.client.NewSession()
		if err == nil && forwardAgent {
			if err := c.forwardAgent(cn, s); err != nil {
				s.Close()
				c.release(cn)
				return nil, nil, err
			}
		}
		if err == nil {
			return cn, s, nil
		}
		var refused *ssh.OpenChannelError
		if errors.As(err, &refused) {
			c.mu.Lock()
			cn.active--
			others := cn.active
			cn.blocked = others > 0 // full for now: until one of its sessions ends
			c.broadcast()
			c.mu.Unlock()
			if others == 0 {
				return nil, nil, fmt.Errorf("%s refused to open a session: %w; check its sshd MaxSessions and logs", c.name, err)
			}
			continue
		}
		// The connection died between commands: nothing was sent yet, so
		// a fresh connection is safe.
		cn.fail(fmt.Errorf("opening a session: %w", err))
		c.release(cn)
		if attempt >= 3 {
			return nil, nil, fmt.Errorf("opening a session on %s: %w", c.name, err)
		}
	}
}

// forwardAgent forwards the ssh-agent on cn, through session s if cn
// does not yet: it lets cn pass the host's agent channels to the local
// agent and asks for auth-agent-req on s. sshd grants that once per
// connection and offers the agent to every later session of it.
func (c *Client) forwardAgent(cn *conn, s *ssh.Session) error {
	cn.agentOnce.Do(func() {
		sock := c.cfg.agentSocket()
		if sock == "" {
			cn.agentErr = fmt.Errorf("forwarding the ssh-agent to %s: there is no agent: SSH_AUTH_SOCK is not set", c.name)
			return
		}
		if err := agent.ForwardToRemote(cn.client, sock); err != nil {
			cn.agentErr = fmt.Errorf("forwarding the ssh-agent to %s: %w", c.name, err)
			return
		}
		if err := agent.RequestAgentForwarding(s); err != nil {
			cn.agentErr = fmt.Errorf("%s refused to forward the ssh-agent: %w; check AllowAgentForwarding in its sshd_config", c.name, err)
		}
	})
	return cn.agentErr
}

// conn is one SSH connection, possibly through jump hosts.
type conn struct {
	client *ssh.Client
	jumps  []*ssh.Client
	host   string
	viaMux bool // a connection of the persist mux's

	// Guarded by Client.mu.
	agent   bool // carries the ssh-agent: only for commands that forward it
	limit   int
	active  int
	blocked bool

	agentOnce sync.Once // the handler of the host's agent channels, set up once
	agentErr  error

	done     chan struct{} // closed when the connection has ended
	failOnce sync.Once
	mu       sync.Mutex
	err      error // why it ended
}

func (cn *conn) alive() bool {
	select {
	case <-cn.done:
		return false
	default:
		return cn.cause() == nil
	}
}

// fail records why the connection ends, and ends it.
func (cn *conn) fail(why error) {
	cn.mu.Lock()
	if cn.err == nil {
		cn.err = why
	}
	cn.mu.Unlock()
	cn.failOnce.Do(func() {
		cn.client.Close()
		for i := len(cn.jumps) - 1; i >= 0; i-- {
			cn.jumps[i].Close()
		}
	})
}

// cause says why the connection ended, or nil if it has not.
func (cn *conn) cause() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

// watch waits for the connection to end and records it.
func (cn *conn) watch() {
	err := cn.client.Wait()
	switch {
	case err == nil || errors.Is(err, io.EOF):
		err = errors.New("the connection was closed by the remote side or the network")
	case errors.Is(err, net.ErrClosed):
		err = errors.New("the connection was closed")
	default:
		err = fmt.Errorf("the connection broke: %w", err)
	}
	cn.fail(err)
	close(cn.done)
}

// keepalive sends keepalive@openssh.com every interval and fails the
// connection when maxMissed of them in a row get no reply. Any reply, even a
// refusal, proves the peer alive.
func (cn *conn) keepalive(interval time.Duration, maxMissed int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	replies := make(chan error, 1)
	inflight, missed := false, 0
	for {
		select {
		case <-cn.done:
			return
		case err := <-replies:
			inflight, missed = false, 0
			if err != nil {
				return
			}
		case <-t.C:
			if inflight {
				missed++
				if missed >= maxMissed {
					cn.fail(fmt.Errorf("no reply to %d keepalives in %s; the host or the network is down", maxMissed, time.Duration(maxMissed+1)*interval))
					return
				}
				continue
			}
			inflight = true
			go func() {
				_, _, err := cn.client.SendRequest("keepalive@openssh.com", true, nil)
				replies <- err
			}()
		}
	}
}

// dialConn connects through every jump host to the endpoint, or through
// the persist mux when the Config and the host say so, unless direct.
func (c *Client) dialConn(ctx context.Context, direct bool) (*conn, error) {
	if use, idle := c.usePersist(); use && !direct {
		mc, ok, err := c.dialMux(ctx, idle)
		if err != nil {
			return nil, err
		}
		if ok {
			return c.newConn(mc, nil, true), nil
		}
		// The host wants a password, which the mux never holds.
	}
	hops := append(append([]*endpoint(nil), c.ep.jumps...), c.ep)
	var opened []*ssh.Client
	var via *ssh.Client
	for i, hop := range hops {
		sc, err := dialHop(ctx, c.cfg, c.run, hop, via, nil)
		if err != nil {
			for j := len(opened) - 1; j >= 0; j-- {
				opened[j].Close()
			}
			if i < len(hops)-1 {
				return nil, fmt.Errorf("reaching %s through jump host %s: %w", c.name, hop.name, err)
			}
			return nil, err
		}
		opened = append(opened, sc)
		via = sc
	}
	return c.newConn(via, opened[:len(opened)-1], false), nil
}

// newConn watches a new connection and keeps it alive.
func (c *Client) newConn(client *ssh.Client, jumps []*ssh.Client, viaMux bool) *conn {
	cn := &conn{
		client: client,
		jumps:  jumps,
		viaMux: viaMux,
		host:   c.name,
		limit:  c.cfg.maxSessions(),
		done:   make(chan struct{}),
	}
	go cn.watch()
	if c.ep.keepalive > 0 {
		go cn.keepalive(c.ep.keepalive, c.ep.keepaliveMax)
	}
	return cn
}

// hopChecks replaces how dialHop checks the host key and authenticates:
// the persist mux checks with its client's known_hosts and signs with its
// client's keys, asked over the client's connection.
type hopChecks struct {
	hostKey ssh.HostKeyCallback
	auth    []ssh.AuthMethod
	algos   []string // host key algorithms to ask for; nil for any
}

// errMuxAuth marks an authentication failure of the persist mux, which
// only has its client's keys to offer.
var errMuxAuth = errors.New("the keys offered were refused")

// dialHop opens the TCP connection (directly, or through via) and runs the
// SSH handshake and authentication, all within the endpoint's connect
// timeout, which starts when the run gives this connection its turn.
// checks, when not nil, replaces the endpoint's known_hosts and keys.
func dialHop(ctx context.Context, cfg *Config, run *runShared, ep *endpoint, via *ssh.Client, checks *hopChecks) (*ssh.Client, error) {
	addr := ep.addr()
	where := ep.name
	if !strings.Contains(ep.name, addr) {
		where = fmt.Sprintf("%s (%s)", ep.name, addr)
	}
	done, err := run.turn(ctx, where)
	if err != nil {
		return nil, err
	}
	defer done()
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timedOut := fmt.Errorf("no SSH connection to %s within %s (TCP connect, handshake and authentication); "+
		"check that the host is up and sshd answers on port %d, or raise ConnectTimeout: %w",
		where, ep.connectTimeout, ep.port, context.DeadlineExceeded)
	wd := startWatchdog(ep.connectTimeout, func() { cancel(timedOut) })
	defer wd.stop()
	failed := func(err error) error {
		if c := context.Cause(hctx); c != nil {
			if c == timedOut {
				return timedOut
			}
			return fmt.Errorf("connecting to %s: %w", where, c)
		}
		return err
	}

	var nc net.Conn
	var proxy *proxyConn
	forMux := checks != nil
	explain := func() string { return "" }
	var known []string // the key types known_hosts holds for the host
	switch {
	case via != nil:
		nc, err = via.DialContext(hctx, "tcp", addr)
	case ep.proxyCommand != "":
		if proxy, err = startProxy(ep.proxyCommand, addr, cfg.ProxyStderr); err != nil {
			return nil, fmt.Errorf("connecting to %s: %w", where, err)
		}
		nc = proxy
	case cfg.DialContext != nil:
		nc, err = cfg.DialContext(hctx, "tcp", addr)
	default:
		var d net.Dialer
		nc, err = d.DialContext(hctx, "tcp", addr)
	}
	if err != nil {
		return nil, failed(fmt.Errorf("connecting to %s: %w; check the host name and that sshd listens on port %d", where, err, ep.port))
	}
	stopClose := context.AfterFunc(hctx, func() { nc.Close() })

	if checks == nil {
		hk, err := newHostKeys(ep, run.keys)
		if err != nil {
			nc.Close()
			return nil, err
		}
		a, err := newAuth(ep, cfg, wd.pause)
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("authenticating to %s: %w", where, err)
		}
		defer a.close()
		checks = &hopChecks{hostKey: hk.callback(), auth: a.methods(), algos: hostKeyAlgorithms(hk, addr)}
		explain = a.explain
		known = hk.algorithms(addr)
	}
	config := &ssh.ClientConfig{
		User:              ep.user,
		Auth:              checks.auth,
		HostKeyCallback:   checks.hostKey,
		HostKeyAlgorithms: checks.algos,
	}
	sconn, chans, reqs, err := ssh.NewClientConn(nc, addr, config)
	if !stopClose() && err == nil {
		// The timeout fired just as the handshake finished.
		sconn.Close()
		err = errors.New("connection closed")
	}
	if err != nil {
		if proxy != nil {
			// Before Close, which hangs it up: how it ended by itself.
			how := proxy.explain()
			err = fmt.Errorf("%w (%s)", err, how)
			failed0 := failed
			failed = func(err error) error { return fmt.Errorf("%w (%s)", failed0(err), how) }
		}
		nc.Close()
		var herr *HostKeyError
		switch {
		case context.Cause(hctx) != nil:
			return nil, failed(err)
		case errors.As(err, &herr):
			return nil, fmt.Errorf("connecting to %s: %w", where, herr)
		case strings.Contains(err.Error(), "unable to authenticate"):
			if forMux {
				// The persist mux's dial: its client explains.
				return nil, fmt.Errorf("authenticating to %s as %q failed: %w: %w", where, ep.user, err, errMuxAuth)
			}
			return nil, fmt.Errorf("authenticating to %s as %q failed: %w; %s", where, ep.user, err, explain())
		case strings.Contains(err.Error(), "no common algorithm for host key") && len(known) > 0:
			return nil, fmt.Errorf("connecting to %s: %w; known_hosts lists keys of other types for it "+
				"(%s), so its host keys may have changed: verify them, then remove the old entries "+
				"(ssh-keygen -R %s) and connect again", where, err, strings.Join(known, ", "), knownhosts.Normalize(addr))
		}
		return nil, fmt.Errorf("connecting to %s: %w", where, err)
	}
	return ssh.NewClient(sconn, chans, reqs), nil
}

// hostKeyAlgorithms is what to ask a host for: the key types known_hosts
// holds for it or, for an unknown host, any plain key, which known_hosts
// can record, rather than a certificate from an unknown authority.
func hostKeyAlgorithms(hk *hostKeys, addr string) []string {
	algos := hk.algorithms(addr)
	if len(algos) == 0 {
		for _, alg := range ssh.SupportedAlgorithms().HostKeys {
			if !strings.Contains(alg, "-cert-") {
				algos = append(algos, alg)
			}
		}
	}
	return algos
}

// watchdog runs fire after d, not counting the time spent paused (while a
// callback waits for the user to type a passphrase or password).
type watchdog struct {
	mu       sync.Mutex
	timer    *time.Timer
	left     time.Duration
	since    time.Time
	paused   int
	fired    bool
	stopped  bool
	fireFunc func()
}

func startWatchdog(d time.Duration, fire func()) *watchdog {
	w := &watchdog{left: d, since: time.Now(), fireFunc: fire}
	w.timer = time.AfterFunc(d, w.fire)
	return w
}

func (w *watchdog) fire() {
	w.mu.Lock()
	if w.paused > 0 || w.stopped {
		w.mu.Unlock()
		return
	}
	w.fired = true
	w.mu.Unlock()
	w.fireFunc()
}

// pause stops the clock until the returned function is called.
func (w *watchdog) pause() func() {
	w.mu.Lock()
	if w.paused == 0 && !w.fired {
		w.timer.Stop()
		w.left -= time.Since(w.since)
	}
	w.paused++
	w.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.paused--
			if w.paused == 0 && !w.fired && !w.stopped {
				w.since = time.Now()
				w.timer.Reset(max(w.left, time.Millisecond))
			}
		})
	}
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	w.timer.Stop()
	w.mu.Unlock()
}
