package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Persist lets a run's connections outlive it: they are held by a mux
// process of the user's (ServeMux, started by Start), and a later run
// dials them through the mux's unix socket in Dir instead of connecting
// anew, like OpenSSH's ControlMaster with ControlPersist.
//
// Host keys and identities are checked as without it: on every use the
// run checks the key the host presented, with its own known_hosts, and a
// connection is reused only by a run offering the same keys for the same
// user, host, port, known_hosts files and ProxyCommand. On its first
// dial, the mux asks the run to check the host key before it
// authenticates, and authenticates with the keys the run offers it, over
// the run's own connection, for that dial only: the mux holds no key and
// no password. Hosts reached through ProxyJump, connections that forward
// the ssh-agent and those carrying reverse tunnels are never persisted;
// a host that wants a password is connected to directly when the run
// can ask for one.
type Persist struct {
	// Dir is the mux's directory, private to the user (see PersistDir):
	// it is created mode 0700 if missing, and refused unless it is the
	// user's and no one else may enter it.
	Dir string
	// Idle is how long the mux keeps a connection no run uses. Zero
	// persists only the hosts whose ssh_config sets ControlPersist, for
	// as long as it says.
	Idle time.Duration
	// Start starts a mux for Dir, in a process of its own that lives on
	// after this one, that ends idle for idle (zero: until stopped). It
	// returns once the mux listens. Nil fails when no mux runs.
	Start func(ctx context.Context, idle time.Duration) error
}

// Names of the mux's files in its directory, and of the SSH requests and
// channels between the mux and its clients.
const (
	muxSocket   = "mux.sock"
	muxPubKey   = "mux.pub" // the mux's own host key, which clients check
	muxLock     = "start.lock"
	muxDialReq  = "dial@gotask"
	muxStopReq  = "stop@gotask"
	muxShellReq = "shell@gotask"          // a run tells the mux what it learnt of the host's login shell
	muxKeyChan  = "check-host-key@gotask" // the mux asks its client to check a host key
	muxAgent    = "agent@gotask"          // the mux asks its client to sign with its keys
)

// ErrMuxKey reports a persist mux that presents another key than the one
// its directory holds: stop it (StopPersist) and let a run start another.
var ErrMuxKey = errors.New("the persist mux presents another key than its directory holds")

// ErrPersistUnsupported reports that this system has no persist mux.
var ErrPersistUnsupported = errors.New("the connection mux is only supported on Linux for now")

// PersistDir returns the directory for the user's connection mux:
// $XDG_RUNTIME_DIR/gotask, else gotask-UID in os.TempDir. It does not
// create it.
func PersistDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "gotask")
	}
	return filepath.Join(os.TempDir(), "gotask-"+strconv.Itoa(os.Getuid()))
}

// muxDialSpec is what a client asks the mux to connect to. Every field
// but the last three is part of the key under which the mux keeps the
// connection: another identity, known_hosts file or proxy never gets it.
type muxDialSpec struct {
	User         string
	HostName     string
	Port         int
	ProxyCommand string
	KnownHosts   []string
	Identities   []string // SHA256 fingerprints of the keys offered, in order

	ConnectTimeout    time.Duration
	HostKeyAlgorithms []string
	Idle              time.Duration
}

func (s *muxDialSpec) key() string {
	k := *s
	k.ConnectTimeout, k.HostKeyAlgorithms, k.Idle = 0, nil, 0
	b, _ := json.Marshal(k)
	return string(b)
}

// muxDialReply answers a dial request: the host key the host presented
// and where from, or why there is no connection.
type muxDialReply struct {
	HostKey []byte `json:",omitempty"`
	Addr    string `json:",omitempty"`
	Remote  string `json:",omitempty"`
	Reused  bool   `json:",omitempty"`
	Shell   string `json:",omitempty"` // on reuse: the login shell's kind, as an earlier run learnt it (muxShellKinds)
	Kind    string `json:",omitempty"` // on failure: "hostkey", "auth" or "connect"
	Error   string `json:",omitempty"`
}

// muxShellKinds names the login shell kinds a run tells the mux of, and
// the mux tells later runs of, in shell@gotask requests and dial replies.
var muxShellKinds = map[string]int32{"posix": shellPOSIX, "other": shellOther}

// muxKeyCheck is the host key the mux asks its client to check.
type muxKeyCheck struct {
	Addr, Remote string
	Key          []byte
}

// usePersist reports whether connections to the endpoint go through the
// mux, and for how long the mux should keep them idle.
func (c *Client) usePersist() (bool, time.Duration) {
	p := c.cfg.Persist
	if p == nil || len(c.ep.jumps) > 0 || c.ep.forwardAgent {
		return false, 0
	}
	if p.Idle > 0 {
		return true, p.Idle
	}
	// Where there is no mux, ssh_config's ControlPersist is ignored
	// rather than failing every run; --persist says why it cannot.
	return c.ep.persist && persistSupported, c.ep.controlPersist
}

// dialMux gets a connection to the endpoint through the persist mux. The
// host key the host presented is checked here, with this run's
// known_hosts, whether the mux dials now or reuses a connection. ok is
// false when the mux could not authenticate and this run may ask for a
// password: then the caller connects directly.
func (c *Client) dialMux(ctx context.Context, idle time.Duration) (_ *ssh.Client, ok bool, _ error) {
	ep := c.ep
	addr := ep.addr()
	where := ep.name
	if where != addr {
		where = fmt.Sprintf("%s (%s)", ep.name, addr)
	}
	// No handshake turn here: the mux takes its own for a new connection,
	// and talking to the mux costs little.
	hk, err := newHostKeys(ep, c.run.keys)
	if err != nil {
		return nil, false, err
	}
	a, err := newAuth(ep, c.cfg, func() func() { return func() {} })
	if err != nil {
		return nil, false, fmt.Errorf("authenticating to %s: %w", where, err)
	}
	defer a.close()
	mc, err := openMux(ctx, c.cfg.Persist, idle)
	if err != nil {
		return nil, false, fmt.Errorf("connecting to %s through the persist mux: %w", where, err)
	}
	spec := muxDialSpec{
		User: ep.user, HostName: ep.hostName, Port: ep.port, ProxyCommand: ep.proxyCommand,
		KnownHosts:     append(append([]string(nil), ep.knownHosts...), ep.globalKnownHosts...),
		ConnectTimeout: ep.connectTimeout, HostKeyAlgorithms: hostKeyAlgorithms(hk, addr), Idle: idle,
	}
	for _, s := range a.signers {
		spec.Identities = append(spec.Identities, ssh.FingerprintSHA256(s.PublicKey()))
	}

	// While the mux dials, it asks us to check the host key (before it
	// authenticates) and to sign with our keys; afterwards, never again.
	check := hk.callback()
	var mu sync.Mutex
	var keyErr error
	dialing := true
	stillDialing := func() bool { mu.Lock(); defer mu.Unlock(); return dialing }
	keyChans, agentChans := mc.HandleChannelOpen(muxKeyChan), mc.HandleChannelOpen(muxAgent)
	go func() {
		for nch := range keyChans {
			var kc muxKeyCheck
			var err error
			if !stillDialing() {
				err = errors.New("not dialling")
			} else if err = json.Unmarshal(nch.ExtraData(), &kc); err == nil {
				var key ssh.PublicKey
				if key, err = ssh.ParsePublicKey(kc.Key); err == nil {
					err = check(kc.Addr, remoteAddr(kc.Remote), key)
				}
			}
			if err != nil {
				mu.Lock()
				keyErr = err
				mu.Unlock()
				nch.Reject(ssh.Prohibited, err.Error())
				continue
			}
			if ch, reqs, err := nch.Accept(); err == nil {
				go ssh.DiscardRequests(reqs)
				ch.Close()
			}
		}
	}()
	keys := &signerAgent{signers: a.signers}
	go func() {
		for nch := range agentChans {
			if !stillDialing() {
				nch.Reject(ssh.Prohibited, "not dialling")
				continue
			}
			ch, reqs, err := nch.Accept()
			if err != nil {
				continue
			}
			go ssh.DiscardRequests(reqs)
			go func() {
				defer ch.Close()
				_ = agent.ServeAgent(keys, ch)
			}()
		}
	}()
	payload, _ := json.Marshal(&spec)
	fail := func(err error) (*ssh.Client, bool, error) {
		mc.Close()
		return nil, false, err
	}
	okReply, answer, err := sendRequestCtx(ctx, mc, muxDialReq, payload)
	mu.Lock()
	dialing = false
	mu.Unlock()
	if err != nil {
		return fail(fmt.Errorf("connecting to %s through the persist mux: %w", where, err))
	}
	var r muxDialReply
	if err := json.Unmarshal(answer, &r); err != nil {
		return fail(fmt.Errorf("connecting to %s through the persist mux: bad answer: %w", where, err))
	}
	if !okReply {
		mu.Lock()
		kerr := keyErr
		mu.Unlock()
		switch {
		case kerr != nil:
			return fail(fmt.Errorf("connecting to %s: %w", where, kerr))
		case r.Kind == "auth" && c.cfg.Password != nil:
			mc.Close()
			return nil, false, nil
		case r.Kind == "auth":
			return fail(fmt.Errorf("%s; %s", r.Error, a.explain()))
		}
		return fail(fmt.Errorf("%s (through the persist mux)", r.Error))
	}
	// Every use, not only the first: known_hosts may have changed since
	// the mux connected.
	key, err := ssh.ParsePublicKey(r.HostKey)
	if err != nil {
		return fail(fmt.Errorf("connecting to %s through the persist mux: bad host key: %w", where, err))
	}
	if err := check(r.Addr, remoteAddr(r.Remote), key); err != nil {
		return fail(fmt.Errorf("connecting to %s: %w", where, err))
	}
	// What an earlier run learnt of the login shell (the same login):
	// the first command here needs no sh to name it.
	if kind := muxShellKinds[r.Shell]; kind != shellUnknown {
		c.shell.CompareAndSwap(shellUnknown, kind)
	}
	return mc, true, nil
}

// muxAlgorithms are the cheapest sound ones, for the mux's socket, which
// a run connects to for every host: loopback, same user. Go's P-256 is
// assembly on amd64 and arm64, about twice as fast as its X25519.
var muxAlgorithms = ssh.Config{
	KeyExchanges: []string{ssh.KeyExchangeECDHP256},
	Ciphers:      []string{ssh.CipherAES128GCM},
}

// sendRequestCtx sends a global request and waits for its reply, or for
// ctx to end, which closes the connection.
func sendRequestCtx(ctx context.Context, c *ssh.Client, name string, payload []byte) (bool, []byte, error) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	ok, answer, err := c.SendRequest(name, true, payload)
	if err != nil && ctx.Err() != nil {
		return false, nil, context.Cause(ctx)
	}
	return ok, answer, err
}

// remoteAddr turns the address the mux connected to back into a
// net.Addr, as the host key callback gets it without the mux.
func remoteAddr(s string) net.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return proxyAddr(s)
}

// openMux connects to the mux of p.Dir, starting one if none answers,
// and checks that it is the mux: its key is the one in the directory,
// which only the user can write.
func openMux(ctx context.Context, p *Persist, idle time.Duration) (*ssh.Client, error) {
	if err := privateDir(p.Dir); err != nil {
		return nil, err
	}
	sock := filepath.Join(p.Dir, muxSocket)
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		if nc, err = startMux(ctx, p, idle); err != nil {
			return nil, err
		}
	}
	pub, err := os.ReadFile(filepath.Join(p.Dir, muxPubKey))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("reading the mux's key: %w", err)
	}
	want, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("reading the mux's key %s: %w", filepath.Join(p.Dir, muxPubKey), err)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	// A hang guard: a mux that does not finish a handshake on loopback
	// in this long is stuck.
	nc.SetDeadline(time.Now().Add(DefaultConnectTimeout))
	defer nc.SetDeadline(time.Time{})
	sc, chans, reqs, err := ssh.NewClientConn(nc, "gotask-mux", &ssh.ClientConfig{
		User:   "gotask",
		Config: muxAlgorithms,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if !bytes.Equal(key.Marshal(), want.Marshal()) {
				return fmt.Errorf("the mux at %s: %w (%s)", sock, ErrMuxKey, filepath.Join(filepath.Dir(sock), muxPubKey))
			}
			return nil
		},
	})
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("talking to the mux at %s: %w", sock, err)
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// startMux starts the mux, unless another run started it meanwhile: one
// run at a time does so, holding an exclusive lock on a file beside the
// socket. A socket that no one answers on is stale and replaced.
func startMux(ctx context.Context, p *Persist, idle time.Duration) (net.Conn, error) {
	sock := filepath.Join(p.Dir, muxSocket)
	if p.Start == nil {
		return nil, fmt.Errorf("no mux answers on %s", sock)
	}
	f, err := os.OpenFile(filepath.Join(p.Dir, muxLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("starting the mux: %w", err)
	}
	defer f.Close()
	if err := flock(f); err != nil {
		return nil, fmt.Errorf("starting the mux: locking %s: %w", f.Name(), err)
	}
	var d net.Dialer
	if nc, err := d.DialContext(ctx, "unix", sock); err == nil {
		return nc, nil
	}
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing the stale mux socket: %w", err)
	}
	if err := p.Start(ctx, idle); err != nil {
		return nil, fmt.Errorf("starting the mux: %w", err)
	}
	nc, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, fmt.Errorf("the mux started but does not answer: %w (see %s)", err, filepath.Join(p.Dir, "mux.log"))
	}
	return nc, nil
}

// StopPersist stops the user's mux in dir, closing every connection it
// holds, and waits until it has gone. It reports false when none ran.
func StopPersist(ctx context.Context, dir string) (bool, error) {
	if err := privateDir(dir); err != nil {
		return false, err
	}
	sock := filepath.Join(dir, muxSocket)
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		// No socket, or a stale one (which the next mux replaces).
		return false, nil
	}
	nc.Close()
	mc, err := openMux(ctx, &Persist{Dir: dir}, 0)
	if err != nil {
		return false, err
	}
	defer mc.Close()
	if ok, _, err := sendRequestCtx(ctx, mc, muxStopReq, nil); err != nil || !ok {
		return false, fmt.Errorf("stopping the mux at %s: %v", sock, err)
	}
	// The mux removes its socket, then closes every connection: ours
	// ends when it has.
	werr := make(chan error, 1)
	go func() { werr <- mc.Wait() }()
	select {
	case <-werr:
	case <-ctx.Done():
		return true, context.Cause(ctx)
	}
	return true, nil
}

// signerAgent serves a run's keys to the mux as an ssh-agent: it lists
// and signs, nothing else.
type signerAgent struct{ signers []ssh.Signer }

var _ agent.ExtendedAgent = (*signerAgent)(nil)

var errAgentReadOnly = errors.New("not supported by gotask's mux agent")

func (a *signerAgent) List() ([]*agent.Key, error) {
	var keys []*agent.Key
	for _, s := range a.signers {
		pub := s.PublicKey()
		keys = append(keys, &agent.Key{Format: pub.Type(), Blob: pub.Marshal()})
	}
	return keys, nil
}

func (a *signerAgent) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	return a.SignWithFlags(key, data, 0)
}

func (a *signerAgent) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	for _, s := range a.signers {
		if !bytes.Equal(s.PublicKey().Marshal(), key.Marshal()) {
			continue
		}
		if n, ok := s.(namedSigner); ok {
			s = n.Signer
		}
		alg := ""
		switch {
		case flags&agent.SignatureFlagRsaSha512 != 0:
			alg = ssh.KeyAlgoRSASHA512
		case flags&agent.SignatureFlagRsaSha256 != 0:
			alg = ssh.KeyAlgoRSASHA256
		}
		if as, ok := s.(ssh.AlgorithmSigner); ok && alg != "" {
			return as.SignWithAlgorithm(rand.Reader, data, alg)
		}
		return s.Sign(rand.Reader, data)
	}
	return nil, errors.New("no such key")
}

func (a *signerAgent) Signers() ([]ssh.Signer, error) { return a.signers, nil }
func (a *signerAgent) Add(agent.AddedKey) error       { return errAgentReadOnly }
func (a *signerAgent) Remove(ssh.PublicKey) error     { return errAgentReadOnly }
func (a *signerAgent) RemoveAll() error               { return errAgentReadOnly }
func (a *signerAgent) Lock([]byte) error              { return errAgentReadOnly }
func (a *signerAgent) Unlock([]byte) error            { return errAgentReadOnly }
func (a *signerAgent) Extension(string, []byte) ([]byte, error) {
	return nil, agent.ErrExtensionUnsupported
}
