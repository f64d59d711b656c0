// Package sshtest provides SSH servers for tests.
//
// Start runs an in-process server on golang.org/x/crypto/ssh, listening
// on 127.0.0.1, whose behaviour a test controls: what an exec request
// does (Handler), and faults such as a session that never reports its
// exit status, a connection dropped mid-command, keepalives that are
// never answered, sessions refused beyond a bound, or several host keys
// of which known_hosts lists only one. It also serves SFTP and
// direct-tcpip (so it can be a jump host).
//
// StartSSHD runs a real OpenSSH sshd on a free loopback port as the
// current user, for tests that must meet the real thing.
//
// This package may use ssh.InsecureIgnoreHostKey; production code may
// not.
package sshtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Options configure an in-process server. The zero value serves exec
// requests with Shell, offers one ed25519 host key and accepts the
// server's ClientKey.
type Options struct {
	// HostKeyTypes are the host key types offered: "ed25519", "ecdsa",
	// "rsa". Empty means ed25519 only.
	HostKeyTypes []string

	// Handler serves exec requests. Nil means Shell.
	Handler Handler

	// NoExitStatus closes every session without sending exit-status.
	NoExitStatus bool

	// IgnoreKeepalives leaves global requests (keepalives) unanswered,
	// like a peer that has died while TCP stays up.
	IgnoreKeepalives bool

	// MaxSessions refuses session channels beyond this many open at once
	// on one connection, with a "resource shortage" error. Zero means no
	// bound.
	MaxSessions int

	// Password, when set, is accepted by password and keyboard-interactive
	// authentication.
	Password string

	// AuthorizedKeys are accepted besides the server's own ClientKey.
	AuthorizedKeys []ssh.PublicKey

	// Home is the directory commands run in and SFTP starts in, as a
	// login directory would be. Empty means a new t.TempDir().
	Home string

	// HostCA, when set, signs every host key into a host certificate for
	// the principal 127.0.0.1; the server then offers the certificates as
	// well as the plain keys.
	HostCA *Key

	// AuthDelay makes the server check one public key at a time, each
	// check taking this long, like a host whose CPU is saturated by
	// handshakes: clients that connect at once queue behind each other.
	// Zero means no delay.
	AuthDelay time.Duration
}

// A Handler serves one exec request and returns the exit status to send.
type Handler func(s *Session) int

// Session is one exec request as a Handler sees it.
type Session struct {
	// Command is the command line the client sent.
	Command string
	// Env holds the "KEY=value" pairs of env requests.
	Env []string
	// Pty reports a pty-req; Term, Cols and Rows are its parameters.
	Pty        bool
	Term       string
	Cols, Rows int
	// Home is the server's Home directory.
	Home string

	// Stdin, Stdout and Stderr are the channel's streams.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// Signals delivers the names of signals the client sends ("INT").
	Signals <-chan string
	// WindowChanges delivers the terminal sizes of window-change
	// requests, as {cols, rows}.
	WindowChanges <-chan [2]int
	// Closed is closed when the client closes the session or the
	// connection ends.
	Closed <-chan struct{}

	conn       net.Conn
	exitSignal string
	server     *Server
}

// DropConnection closes the TCP connection under the session at once, as
// a crash or a network failure would.
func (s *Session) DropConnection() { s.conn.Close() }

// ExitSignal makes the session report death by the named signal ("KILL")
// instead of an exit status.
func (s *Session) ExitSignal(sig string) { s.exitSignal = sig }

// Server is a running in-process SSH server.
type Server struct {
	// Addr is the listening address, 127.0.0.1:PORT; Host and Port are
	// its parts.
	Addr string
	Host string
	Port int
	// HostKeys are the keys offered, in Options.HostKeyTypes order.
	HostKeys []*Key
	// ClientKey is a key the server accepts; ClientKeyFile holds it
	// unencrypted in OpenSSH format.
	ClientKey     *Key
	ClientKeyFile string
	// Home is the directory commands run in and SFTP starts in.
	Home string

	opts  Options
	ln    net.Listener
	conns atomic.Int64
	mu    sync.Mutex
	open  map[net.Conn]bool
	procs map[int]bool   // process groups started by Shell
	reqs  map[string]int // global requests received, by name
	wg    sync.WaitGroup
	done  chan struct{}
}

// Start starts an in-process server on 127.0.0.1:0; it stops when the
// test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{opts: opts, open: map[net.Conn]bool{}, procs: map[int]bool{}, done: make(chan struct{})}
	s.Home = opts.Home
	if s.Home == "" {
		s.Home = filepath.Join(dir, "home")
		if err := os.Mkdir(s.Home, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	config := &ssh.ServerConfig{}
	types := opts.HostKeyTypes
	if len(types) == 0 {
		types = []string{"ed25519"}
	}
	for _, typ := range types {
		signer, err := NewKey(typ)
		if err != nil {
			t.Fatal(err)
		}
		s.HostKeys = append(s.HostKeys, signer)
		config.AddHostKey(signer)
		if opts.HostCA != nil {
			cert := &ssh.Certificate{
				Key:             signer.PublicKey(),
				CertType:        ssh.HostCert,
				KeyId:           "sshtest host",
				ValidPrincipals: []string{"127.0.0.1"},
				ValidBefore:     ssh.CertTimeInfinity,
			}
			if err := cert.SignCert(rand.Reader, opts.HostCA); err != nil {
				t.Fatal(err)
			}
			cs, err := ssh.NewCertSigner(cert, signer)
			if err != nil {
				t.Fatal(err)
			}
			config.AddHostKey(cs)
		}
	}
	client, err := NewKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	s.ClientKey = client
	s.ClientKeyFile = filepath.Join(dir, "id_ed25519")
	if err := client.Write(s.ClientKeyFile, ""); err != nil {
		t.Fatal(err)
	}
	authorized := append([]ssh.PublicKey{client.PublicKey()}, opts.AuthorizedKeys...)
	var authMu sync.Mutex
	config.PublicKeyCallback = func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if opts.AuthDelay > 0 {
			authMu.Lock()
			time.Sleep(opts.AuthDelay)
			authMu.Unlock()
		}
		for _, k := range authorized {
			if string(k.Marshal()) == string(key.Marshal()) {
				return nil, nil
			}
		}
		return nil, fmt.Errorf("key not authorized")
	}
	if opts.Password != "" {
		config.PasswordCallback = func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if string(pw) == opts.Password {
				return nil, nil
			}
			return nil, fmt.Errorf("wrong password")
		}
		config.KeyboardInteractiveCallback = func(_ ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			ans, err := ask("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(ans) == 1 && ans[0] == opts.Password {
				return nil, nil
			}
			return nil, fmt.Errorf("wrong password")
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.Addr = ln.Addr().String()
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.wg.Add(1)
	go s.serve(config)
	t.Cleanup(s.Close)
	return s
}

// GlobalRequests reports how many global requests named name the server
// has received, on all its connections.
func (s *Server) GlobalRequests(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[name]
}

// Connections reports how many SSH connections completed the handshake.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// OpenConnections reports how many client connections are open now, as
// the server sees them: a connection the client closed stops counting
// once the server has noticed.
func (s *Server) OpenConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// KnownHostsLine returns the known_hosts line for the host key of the
// given type ("ed25519", "ecdsa", "rsa").
func (s *Server) KnownHostsLine(keyType string) string {
	for _, k := range s.HostKeys {
		if keyTypeOf(k.PublicKey()) == keyType {
			return fmt.Sprintf("[%s]:%d %s", s.Host, s.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey()))))
		}
	}
	panic("sshtest: no host key of type " + keyType)
}

// WriteKnownHosts writes a known_hosts file into a new temporary
// directory listing the host keys of the given types (all when none are
// given) and returns its path.
func (s *Server) WriteKnownHosts(t testing.TB, keyTypes ...string) string {
	t.Helper()
	if len(keyTypes) == 0 {
		for _, k := range s.HostKeys {
			keyTypes = append(keyTypes, keyTypeOf(k.PublicKey()))
		}
	}
	var b strings.Builder
	for _, typ := range keyTypes {
		b.WriteString(s.KnownHostsLine(typ) + "\n")
	}
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func keyTypeOf(k ssh.PublicKey) string {
	switch t := k.Type(); {
	case strings.Contains(t, "ed25519"):
		return "ed25519"
	case strings.Contains(t, "ecdsa"):
		return "ecdsa"
	case strings.Contains(t, "rsa"):
		return "rsa"
	default:
		return t
	}
}

// Close stops the server, drops its connections and kills the process
// groups Shell started.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return
	default:
	}
	close(s.done)
	s.ln.Close()
	for c := range s.open {
		c.Close()
	}
	for pgid := range s.procs {
		killGroup(pgid)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve(config *ssh.ServerConfig) {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			nc.Close()
			return
		default:
		}
		s.open[nc] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.open, nc)
				s.mu.Unlock()
				nc.Close()
			}()
			s.serveConn(nc, config)
		}()
	}
}

func (s *Server) serveConn(nc net.Conn, config *ssh.ServerConfig) {
	sconn, chans, reqs, err := ssh.NewServerConn(nc, config)
	if err != nil {
		return
	}
	defer sconn.Close()
	s.conns.Add(1)
	go func() {
		for req := range reqs {
			s.mu.Lock()
			if s.reqs == nil {
				s.reqs = map[string]int{}
			}
			s.reqs[req.Type]++
			s.mu.Unlock()
			if s.opts.IgnoreKeepalives {
				continue // never reply: a dead peer
			}
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}()
	var sessions atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			if s.opts.MaxSessions > 0 && sessions.Load() >= int64(s.opts.MaxSessions) {
				nch.Reject(ssh.ResourceShortage, "too many sessions")
				continue
			}
			sessions.Add(1)
			ch, creqs, err := nch.Accept()
			if err != nil {
				sessions.Add(-1)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer sessions.Add(-1)
				s.serveSession(nc, ch, creqs)
			}()
		case "direct-tcpip":
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.forward(nch)
			}()
		default:
			nch.Reject(ssh.UnknownChannelType, "unsupported channel type")
		}
	}
}

// forward serves a direct-tcpip channel, as a jump host does.
func (s *Server) forward(nch ssh.NewChannel) {
	var req struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nch.ExtraData(), &req); err != nil {
		nch.Reject(ssh.ConnectionFailed, "bad request")
		return
	}
	target, err := net.Dial("tcp", net.JoinHostPort(req.Host, strconv.Itoa(int(req.Port))))
	if err != nil {
		nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		target.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	done := make(chan struct{}, 2)
	go func() { io.Copy(target, ch); target.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(ch, target); ch.CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
	ch.Close()
	target.Close()
}

func (s *Server) serveSession(nc net.Conn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	sigs := make(chan string, 16)
	winch := make(chan [2]int, 16)
	closed := make(chan struct{})
	sess := &Session{
		Stdin: ch, Stdout: ch, Stderr: ch.Stderr(),
		Signals: sigs, WindowChanges: winch, Closed: closed, conn: nc, server: s, Home: s.Home,
	}
	finished := make(chan struct{})
	started := false
	for req := range reqs {
		ok := false
		var start func() // runs after the reply, as sshd replies before running
		switch req.Type {
		case "pty-req":
			var p struct {
				Term          string
				Cols, Rows    uint32
				Width, Height uint32
				Modes         string
			}
			if ssh.Unmarshal(req.Payload, &p) == nil {
				sess.Pty, sess.Term, sess.Cols, sess.Rows = true, p.Term, int(p.Cols), int(p.Rows)
				ok = true
			}
		case "env":
			var p struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &p) == nil {
				sess.Env = append(sess.Env, p.Name+"="+p.Value)
				ok = true
			}
		case "window-change":
			var p struct{ Cols, Rows, Width, Height uint32 }
			if ssh.Unmarshal(req.Payload, &p) == nil {
				select {
				case winch <- [2]int{int(p.Cols), int(p.Rows)}:
				default:
				}
				ok = true
			}
		case "signal":
			var p struct{ Signal string }
			if ssh.Unmarshal(req.Payload, &p) == nil {
				select {
				case sigs <- p.Signal:
				default:
				}
				ok = true
			}
		case "exec":
			var p struct{ Command string }
			if ssh.Unmarshal(req.Payload, &p) == nil && !started {
				started, ok = true, true
				sess.Command = p.Command
				start = func() {
					defer close(finished)
					s.runExec(ch, sess)
				}
			}
		case "subsystem":
			var p struct{ Name string }
			if ssh.Unmarshal(req.Payload, &p) == nil && p.Name == "sftp" && !started {
				started, ok = true, true
				start = func() {
					defer close(finished)
					srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.Home))
					if err == nil {
						srv.Serve()
						srv.Close()
					}
					s.exit(ch, 0)
					ch.Close()
				}
			}
		}
		if req.WantReply {
			req.Reply(ok, nil)
		}
		if start != nil {
			go start()
		}
	}
	close(closed)
	if started {
		<-finished
	}
}

func (s *Server) runExec(ch ssh.Channel, sess *Session) {
	h := s.opts.Handler
	if h == nil {
		h = Shell
	}
	code := h(sess)
	switch {
	case s.opts.NoExitStatus:
	case sess.exitSignal != "":
		ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
			Signal     string
			CoreDumped bool
			Error      string
			Lang       string
		}{Signal: sess.exitSignal}))
	default:
		s.exit(ch, code)
	}
	ch.CloseWrite()
	ch.Close()
}

func (s *Server) exit(ch ssh.Channel, code int) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(code))
	ch.SendRequest("exit-status", false, b[:])
}

func (s *Server) track(pgid int, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.procs[pgid] = true
	} else {
		delete(s.procs, pgid)
	}
}

// Key is a generated key pair.
type Key struct {
	ssh.Signer
	// Private is the crypto private key (ed25519.PrivateKey,
	// *ecdsa.PrivateKey or *rsa.PrivateKey).
	Private crypto.PrivateKey
}

// NewKey generates a key of the given type: "ed25519", "ecdsa" (P-256)
// or "rsa" (2048 bits).
func NewKey(keyType string) (*Key, error) {
	var key crypto.PrivateKey
	var err error
	switch keyType {
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("sshtest: unknown key type %q", keyType)
	}
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, err
	}
	return &Key{Signer: signer, Private: key}, nil
}

// Write writes the private key to path in OpenSSH format (encrypted when
// passphrase is not empty), mode 0600, and the public key to path.pub.
func (k *Key) Write(path, passphrase string) error {
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(k.Private, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(k.Private, "", []byte(passphrase))
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	return os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(k.PublicKey()), 0o644)
}
