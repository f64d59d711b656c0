package remote

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Mux is the persist mux: a process of the user's that holds SSH
// connections to hosts between runs (see Persist). Each run connects to
// its unix socket and speaks SSH to it, the mux being the server; once
// the run has asked for a host, every channel it opens (sessions, SFTP,
// direct-tcpip) and every request on them or on the connection goes to a
// new channel on the host's connection, both ways, with EOF and close in
// order. A connection to a host serves one run's connection at a time;
// the mux keeps it for the next run with the same key once that ends,
// with what a run learnt of the login shell there (shell@gotask), so that
// the next run's first command needs no sh to name it.
type Mux struct {
	dir    string
	ln     net.Listener
	signer ssh.Signer
	cfg    *Config
	run    *runShared
	log    *log.Logger

	mu      sync.Mutex
	idle    time.Duration
	free    map[string][]*upstream // connections no run uses, by key
	all     map[*upstream]bool
	conns   map[ssh.Conn]bool // the runs' connections
	clients int
	everUp  bool

	poked chan struct{}
	stop  chan struct{}
	once  sync.Once
}

// upstream is one connection to a host, held by the mux.
type upstream struct {
	key     string
	client  *ssh.Client
	hostKey []byte
	addr    string
	remote  string
	dead    chan struct{}

	shell atomic.Value // string: what a run learnt of the login shell (muxShellKinds), for the next runs
}

var errMuxHostKey = errors.New("the host key was refused")

// ListenMux creates the mux's socket in dir (see PersistDir), mode 0600
// in a directory only the user may enter, and writes the public half of
// a key made for this mux beside it, which runs check the mux by.
func ListenMux(dir string) (*Mux, error) {
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	pubPath := filepath.Join(dir, muxPubKey)
	os.Remove(pubPath)
	if err := os.WriteFile(pubPath, ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		return nil, fmt.Errorf("writing the mux's key: %w", err)
	}
	sock := filepath.Join(dir, muxSocket)
	os.Remove(sock)
	ln, err := listenPrivate(sock)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", sock, err)
	}
	return &Mux{
		dir: dir, ln: ln, signer: signer,
		free: map[string][]*upstream{}, all: map[*upstream]bool{}, conns: map[ssh.Conn]bool{},
		poked: make(chan struct{}, 1), stop: make(chan struct{}),
	}, nil
}

// Serve accepts runs until the mux is stopped (StopPersist), ctx ends,
// no run has used it for idle (zero: never), or, with no run connected,
// every host connection it held has ended. log receives what goes wrong
// (nil discards it), and what ProxyCommands print to their stderr.
func (m *Mux) Serve(ctx context.Context, idle time.Duration, logTo io.Writer) error {
	if logTo == nil {
		logTo = io.Discard
	}
	m.log = log.New(logTo, "gotask mux: ", log.LstdFlags)
	m.cfg = &Config{ProxyStderr: logTo}
	m.run = newRunShared(m.cfg)
	m.idle = idle
	defer m.shutdown()
	go m.accept()
	for {
		m.mu.Lock()
		busy, gone, idle := m.clients > 0, m.everUp && len(m.all) == 0, m.idle
		m.mu.Unlock()
		if !busy && gone {
			m.log.Print("every host connection has ended: exiting")
			return nil
		}
		var expired <-chan time.Time
		var t *time.Timer
		if !busy && idle > 0 {
			t = time.NewTimer(idle)
			expired = t.C
		}
		select {
		case <-m.poked:
		case <-expired:
			m.mu.Lock()
			busy = m.clients > 0
			m.mu.Unlock()
			if !busy {
				m.log.Printf("unused for %s: exiting", idle)
				return nil
			}
		case <-m.stop:
			m.log.Print("stopped")
			return nil
		case <-ctx.Done():
			return nil
		}
		if t != nil {
			t.Stop()
		}
	}
}

func (m *Mux) poke() {
	select {
	case m.poked <- struct{}{}:
	default:
	}
}

// shutdown removes the socket first, so that a run waiting for the mux
// to stop sees it gone once its connection ends, then closes everything.
func (m *Mux) shutdown() {
	os.Remove(filepath.Join(m.dir, muxSocket))
	m.ln.Close()
	m.mu.Lock()
	ups := m.all
	conns := m.conns
	m.all, m.conns, m.free = map[*upstream]bool{}, map[ssh.Conn]bool{}, map[string][]*upstream{}
	m.mu.Unlock()
	for u := range ups {
		u.client.Close()
	}
	for c := range conns {
		c.Close()
	}
}

func (m *Mux) accept() {
	uid := os.Getuid()
	for {
		nc, err := m.ln.Accept()
		if err != nil {
			return
		}
		if peer, err := peerUID(nc); err != nil || peer != uid {
			m.log.Printf("refused a connection from uid %d (%v): only uid %d may use this mux", peer, err, uid)
			nc.Close()
			continue
		}
		m.mu.Lock()
		m.clients++
		m.mu.Unlock()
		go m.serveClient(nc)
	}
}

func (m *Mux) serveClient(nc net.Conn) {
	defer func() {
		m.mu.Lock()
		m.clients--
		m.mu.Unlock()
		m.poke()
	}()
	cfg := &ssh.ServerConfig{NoClientAuth: true, Config: muxAlgorithms} // the kernel vouched for the peer's uid
	cfg.AddHostKey(m.signer)
	sconn, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		nc.Close()
		return
	}
	m.mu.Lock()
	m.conns[sconn] = true
	m.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var up *upstream
	bound := func() *upstream { mu.Lock(); defer mu.Unlock(); return up }
	go func() {
		for nch := range chans {
			u := bound()
			if u == nil {
				nch.Reject(ssh.Prohibited, "no host connected yet")
				continue
			}
			go proxyChannel(nch, u)
		}
	}()
	reqsDone := make(chan struct{})
	go func() {
		defer close(reqsDone)
		for r := range reqs {
			switch r.Type {
			case muxDialReq:
				if bound() != nil {
					r.Reply(false, nil)
					continue
				}
				u, answer := m.dial(ctx, sconn, r.Payload)
				b, _ := json.Marshal(answer)
				if u != nil {
					mu.Lock()
					up = u
					mu.Unlock()
					go func() {
						select {
						case <-u.dead: // the run's connection ends with the host's
							sconn.Close()
						case <-ctx.Done():
						}
					}()
				}
				r.Reply(u != nil, b)
			case muxShellReq:
				// Never passed on to the host. The hint is the run's, of
				// the user's own, about the login of the connection it is
				// bound to: it serves the runs given that connection later.
				u := bound()
				ok := u != nil && muxShellKinds[string(r.Payload)] != 0
				if ok {
					u.shell.Store(string(r.Payload))
				}
				if r.WantReply {
					r.Reply(ok, nil)
				}
			case muxStopReq:
				r.Reply(true, nil)
				m.once.Do(func() { close(m.stop) })
			case "tcpip-forward", "cancel-tcpip-forward", "streamlocal-forward@openssh.com":
				// Reverse tunnels have connections of their own, never
				// persisted: a host's connection outlives the run.
				r.Reply(false, nil)
			default:
				u := bound()
				if u == nil {
					r.Reply(false, nil)
					continue
				}
				ok, answer, err := u.client.SendRequest(r.Type, r.WantReply, r.Payload)
				if r.WantReply {
					r.Reply(ok && err == nil, answer)
				}
			}
		}
	}()
	sconn.Wait()
	cancel() // a dial under way for the run stops
	<-reqsDone
	m.mu.Lock()
	delete(m.conns, sconn)
	if up != nil && m.all[up] {
		m.free[up.key] = append(m.free[up.key], up)
	}
	m.mu.Unlock()
}

// dial returns a connection for the spec in payload: one kept for the
// same key if it still answers, else a new one, whose host key the
// client checks before the mux authenticates with the client's keys.
func (m *Mux) dial(ctx context.Context, client ssh.Conn, payload []byte) (*upstream, muxDialReply) {
	var spec muxDialSpec
	if err := json.Unmarshal(payload, &spec); err != nil {
		return nil, muxDialReply{Kind: "connect", Error: fmt.Sprintf("bad dial request: %v", err)}
	}
	key := spec.key()
	m.mu.Lock()
	if spec.Idle > m.idle && m.idle > 0 {
		m.idle = spec.Idle
	}
	m.mu.Unlock()
	for {
		m.mu.Lock()
		list := m.free[key]
		if len(list) == 0 {
			m.mu.Unlock()
			break
		}
		u := list[len(list)-1]
		m.free[key] = list[:len(list)-1]
		m.mu.Unlock()
		if u.answers(spec.ConnectTimeout) {
			shell, _ := u.shell.Load().(string)
			return u, muxDialReply{HostKey: u.hostKey, Addr: u.addr, Remote: u.remote, Reused: true, Shell: shell}
		}
		u.client.Close()
	}

	ep := &endpoint{
		name: spec.HostName, hostName: spec.HostName, port: spec.Port, user: spec.User,
		proxyCommand: spec.ProxyCommand, connectTimeout: spec.ConnectTimeout,
	}
	if ep.connectTimeout <= 0 {
		ep.connectTimeout = DefaultConnectTimeout
	}
	var seen muxKeyCheck
	var agentChans []ssh.Channel
	checks := &hopChecks{
		algos: spec.HostKeyAlgorithms,
		hostKey: func(addr string, remote net.Addr, key ssh.PublicKey) error {
			kc := muxKeyCheck{Addr: addr, Remote: remote.String(), Key: key.Marshal()}
			b, _ := json.Marshal(kc)
			ch, reqs, err := client.OpenChannel(muxKeyChan, b)
			if err != nil {
				return fmt.Errorf("%w: %v", errMuxHostKey, err)
			}
			go ssh.DiscardRequests(reqs)
			ch.Close()
			seen = kc
			return nil
		},
		auth: []ssh.AuthMethod{ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			ch, reqs, err := client.OpenChannel(muxAgent, nil)
			if err != nil {
				return nil, err
			}
			go ssh.DiscardRequests(reqs)
			agentChans = append(agentChans, ch)
			signers, err := agent.NewClient(ch).Signers()
			if err != nil {
				return nil, err
			}
			var got []string
			for _, s := range signers {
				got = append(got, ssh.FingerprintSHA256(s.PublicKey()))
			}
			if !slices.Equal(got, spec.Identities) {
				return nil, errors.New("the client's agent holds other keys than it named")
			}
			return signers, nil
		})},
	}
	c, err := dialHop(ctx, m.cfg, m.run, ep, nil, checks)
	for _, ch := range agentChans {
		ch.Close()
	}
	if err != nil {
		kind := "connect"
		switch {
		case errors.Is(err, errMuxHostKey):
			kind = "hostkey"
		case errors.Is(err, errMuxAuth):
			kind = "auth"
		}
		return nil, muxDialReply{Kind: kind, Error: err.Error()}
	}
	u := &upstream{key: key, client: c, hostKey: seen.Key, addr: seen.Addr, remote: seen.Remote, dead: make(chan struct{})}
	m.mu.Lock()
	m.all[u] = true
	m.everUp = true
	m.mu.Unlock()
	go func() {
		c.Wait()
		close(u.dead)
		m.mu.Lock()
		delete(m.all, u)
		m.free[u.key] = slices.DeleteFunc(m.free[u.key], func(x *upstream) bool { return x == u })
		m.mu.Unlock()
		m.poke()
	}()
	return u, muxDialReply{HostKey: u.hostKey, Addr: u.addr, Remote: u.remote}
}

// answers reports whether the host replies to a keepalive within d (a
// kept connection may have died unnoticed while no run used it).
func (u *upstream) answers(d time.Duration) bool {
	if d <= 0 {
		d = DefaultConnectTimeout
	}
	reply := make(chan error, 1)
	go func() {
		_, _, err := u.client.SendRequest("keepalive@openssh.com", true, nil)
		reply <- err
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-reply:
		return err == nil
	case <-u.dead:
		return false
	case <-t.C:
		return false
	}
}

// proxyChannel opens a channel like nch on the host's connection and
// joins the two, or refuses nch as the host refused it.
func proxyChannel(nch ssh.NewChannel, u *upstream) {
	uch, ureqs, err := u.client.OpenChannel(nch.ChannelType(), nch.ExtraData())
	if err != nil {
		var oe *ssh.OpenChannelError
		if errors.As(err, &oe) {
			nch.Reject(oe.Reason, oe.Message)
		} else {
			nch.Reject(ssh.ConnectionFailed, err.Error())
		}
		return
	}
	cch, creqs, err := nch.Accept()
	if err != nil {
		uch.Close()
		go ssh.DiscardRequests(ureqs)
		return
	}
	// A request of the run's is answered before the run's channel is
	// closed: a command that ends at once must not close it between
	// the host's reply to "exec" and the run's copy of that reply.
	var replying sync.RWMutex
	go pipeChannel(uch, cch, creqs, true, &replying)
	go pipeChannel(cch, uch, ureqs, false, &replying)
}

// pipeChannel carries src's data, stderr and requests to dst, sends EOF
// once src's data has all gone, and closes dst once src is closed and its
// data has all gone. The run may not ask the host to forward its agent
// through the mux: the host's connection outlives the run.
//
// Each request of the run's holds replying (read-locked) until it is
// answered; the run's channel is closed under the write lock.
func pipeChannel(dst, src ssh.Channel, reqs <-chan *ssh.Request, fromRun bool, replying *sync.RWMutex) {
	var copies sync.WaitGroup
	copies.Add(2)
	go func() { defer copies.Done(); io.Copy(dst, src) }()
	go func() { defer copies.Done(); io.Copy(dst.Stderr(), src.Stderr()) }()
	go func() { copies.Wait(); dst.CloseWrite() }()
	for r := range reqs {
		if fromRun {
			replying.RLock()
		}
		switch {
		case fromRun && (r.Type == "auth-agent-req@openssh.com" || r.Type == "x11-req"):
			if r.WantReply {
				r.Reply(false, nil)
			}
		default:
			ok, err := dst.SendRequest(r.Type, r.WantReply, r.Payload)
			if r.WantReply {
				r.Reply(ok && err == nil, nil)
			}
		}
		if fromRun {
			replying.RUnlock()
		}
	}
	copies.Wait()
	if !fromRun {
		replying.Lock()
		defer replying.Unlock()
	}
	dst.Close()
}
