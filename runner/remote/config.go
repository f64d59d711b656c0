package remote

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gotask/gotask/runner/remote/internal/sshconfig"
)

// Defaults used when neither Config nor ssh_config sets a value.
const (
	// DefaultConnectTimeout bounds the TCP connection plus the SSH
	// handshake and authentication of one hop.
	DefaultConnectTimeout = 15 * time.Second

	// DefaultMaxHandshakesPerCPU times the CPUs usable is how many
	// connections a Pool sets up at once when Config.MaxHandshakes is
	// zero: enough to keep the CPUs and the network busy, few enough that
	// each handshake finishes well within its connect timeout.
	DefaultMaxHandshakesPerCPU = 4
	// DefaultKeepaliveInterval is how often a keepalive is sent.
	DefaultKeepaliveInterval = 15 * time.Second
	// DefaultKeepaliveMax is how many keepalives in a row may go
	// unanswered before the connection is declared dead.
	DefaultKeepaliveMax = 3
	// DefaultMaxSessions is how many sessions one connection carries at
	// once: OpenSSH's default MaxSessions.
	DefaultMaxSessions = 10
	// DefaultStopGrace is how long a stopped command has between the
	// interrupt and the kill.
	DefaultStopGrace = 2 * time.Second
)

// Config says how to connect and authenticate. The zero value connects
// like a plain `ssh host`: ssh_config from the usual places, the agent,
// the default identity files and known_hosts checking. A Config must not
// be modified while a Dial or Pool uses it.
type Config struct {
	// SSHConfig is the ssh_config file to read instead of the usual ones,
	// like `ssh -F`. Empty means ~/.ssh/config, then /etc/ssh/ssh_config
	// (either may be missing); "none" reads no file at all.
	SSHConfig string

	// User is the login name when neither the host string nor ssh_config
	// gives one. Empty means the local user's name.
	User string

	// IdentityFiles are private key files offered before the ones
	// ssh_config's IdentityFile names, like `ssh -i`. Empty adds none.
	// When neither names any, the OpenSSH defaults that exist
	// (~/.ssh/id_rsa, id_ecdsa, id_ecdsa_sk, id_ed25519, id_ed25519_sk)
	// are used. A file named here that does not exist is an error.
	IdentityFiles []string

	// AgentSocket is the ssh-agent socket. Empty means $SSH_AUTH_SOCK (no
	// agent when that is unset); "none" disables the agent.
	AgentSocket string

	// Passphrase is called for the passphrase of an encrypted private key,
	// with a prompt naming the file, and only when the server would accept
	// that key. Nil means encrypted keys are skipped (keys loaded in the
	// agent still work), and authentication errors say which key was
	// encrypted.
	Passphrase func(prompt string) (string, error)

	// Password answers password and keyboard-interactive prompts from the
	// server. Nil means those methods are not offered.
	Password func(prompt string) (string, error)

	// KnownHostsFiles replaces ssh_config's UserKnownHostsFile. Empty means
	// ssh_config's value, or ~/.ssh/known_hosts. Keys accepted under
	// AcceptNew are appended to the first file. The global files
	// (ssh_config's GlobalKnownHostsFile, by default
	// /etc/ssh/ssh_known_hosts) are read as well, never written.
	KnownHostsFiles []string

	// AcceptNew trusts the key of a host that known_hosts does not list
	// yet and records it, like StrictHostKeyChecking=accept-new (the CLI's
	// --accept-new-host-keys). False leaves it to ssh_config's
	// StrictHostKeyChecking: "accept-new" or "no" accept new keys, any
	// other value refuses unknown hosts. A changed key is always refused.
	AcceptNew bool

	// ConnectTimeout bounds the TCP connection plus the SSH handshake and
	// authentication of each hop (time spent in the Passphrase and
	// Password callbacks does not count). Zero means ssh_config's
	// ConnectTimeout, else DefaultConnectTimeout.
	ConnectTimeout time.Duration

	// MaxHandshakes bounds the connections being set up at once (TCP
	// connect, SSH handshake and authentication) by one Pool, or by one
	// Dial, apart from how many hosts are worked on at once. A connection
	// waits for its turn before its ConnectTimeout starts, so time spent
	// queued behind other hosts' handshakes never counts as the host being
	// slow. Zero means DefaultMaxHandshakesPerCPU times the CPUs usable.
	MaxHandshakes int

	// MaxIdleHosts bounds how many hosts a Pool keeps connected while no
	// Get holds them (see Pool.Release); beyond it, the host released
	// longest ago is disconnected. Zero means DefaultMaxIdleHosts;
	// negative disconnects a host as soon as it is released.
	MaxIdleHosts int

	// KeepaliveInterval is how often a keepalive@openssh.com request is
	// sent; after KeepaliveMax unanswered ones in a row the connection is
	// closed and running commands fail with runner.ErrOutcomeUnknown.
	// Zero means ssh_config's ServerAliveInterval when positive, else
	// DefaultKeepaliveInterval. Negative disables keepalives.
	KeepaliveInterval time.Duration

	// KeepaliveMax is the number of unanswered keepalives that marks the
	// peer dead. Zero means ssh_config's ServerAliveCountMax, else
	// DefaultKeepaliveMax.
	KeepaliveMax int

	// MaxSessions bounds the sessions (commands, SFTP transfers) open at
	// once on one connection; a Client opens another connection to the
	// same host when all of its connections are full or the server
	// refuses a session. Zero means DefaultMaxSessions.
	MaxSessions int

	// StopGrace is how long a command stopped by its timeout or by
	// cancellation has to exit after the interrupt before it is killed and
	// its session closed. Zero means DefaultStopGrace.
	StopGrace time.Duration

	// DialContext opens the TCP connection to the first hop. Nil means a
	// net.Dialer. A first hop with a ProxyCommand is reached through that
	// command instead.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// ForwardAgent lets ssh_config's "ForwardAgent yes" forward the
	// ssh-agent (AgentSocket, else $SSH_AUTH_SOCK) to a host, like the
	// CLI's --forward-agent. False ignores ForwardAgent: the agent is
	// never forwarded by default, as whoever is root on a host can use a
	// forwarded agent while the connection lasts.
	ForwardAgent bool

	// ProxyStderr receives what ssh_config ProxyCommands write to their
	// stderr, as ssh shows it. Nil discards it; its last lines still go
	// into the error of a connection that fails.
	ProxyStderr io.Writer

	// Persist, when set, lets connections outlive the run in a mux
	// process that later runs reuse (see Persist): for every host when
	// Persist.Idle is positive, else for the hosts whose ssh_config sets
	// ControlPersist. Nil connects directly, as ssh does without
	// ControlMaster, and ignores ControlPersist.
	Persist *Persist
}

func (c *Config) maxSessions() int {
	if c.MaxSessions > 0 {
		return c.MaxSessions
	}
	return DefaultMaxSessions
}

// agentSocket is the ssh-agent socket to use, "" for none.
func (c *Config) agentSocket() string {
	sock := c.AgentSocket
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock == "none" {
		return ""
	}
	return sock
}

func (c *Config) stopGrace() time.Duration {
	if c.StopGrace > 0 {
		return c.StopGrace
	}
	return DefaultStopGrace
}

// endpoint is one host to connect to, with everything ssh_config and
// Config say about it resolved.
type endpoint struct {
	name             string // the host string as given
	alias            string // the host part, matched against ssh_config Host patterns
	hostName         string // what to connect to
	port             int
	user             string
	identityFiles    []string // in the order to try
	explicitKeys     map[string]bool
	identitiesOnly   bool
	knownHosts       []string // user files; new keys go to the first
	globalKnownHosts []string
	acceptNew        bool
	hashKnownHosts   bool
	connectTimeout   time.Duration
	keepalive        time.Duration
	keepaliveMax     int
	jumps            []*endpoint   // hops to go through, in order
	proxyCommand     string        // ProxyCommand, tokens expanded: run it to reach the host
	forwardAgent     bool          // ForwardAgent yes, and Config.ForwardAgent allows it
	controlPersist   time.Duration // ssh_config ControlPersist: how long the mux keeps the connection idle
	persist          bool          // ControlPersist is set and not "no"
}

// addr is the host:port to dial, also the name checked in known_hosts.
func (e *endpoint) addr() string {
	return net.JoinHostPort(e.hostName, strconv.Itoa(e.port))
}

const maxJumpDepth = 8

// sshConfig is the parsed ssh_config files a Pool or Dial resolves hosts
// with.
type sshConfig = sshconfig.Config

// loadSSHConfig reads the ssh_config files cfg names: cfg.SSHConfig
// alone (like ssh -F), or ~/.ssh/config and then /etc/ssh/ssh_config.
func loadSSHConfig(cfg *Config) (*sshConfig, error) {
	sc, err := sshconfig.Load(cfg.SSHConfig)
	var e *sshconfig.Error
	if errors.As(err, &e) {
		return nil, (*ConfigFileError)(e)
	}
	return sc, err
}

// A ConfigFileError is a mistake in an ssh_config file, at a line: one
// of Config.SSHConfig, ~/.ssh/config, /etc/ssh/ssh_config or a file one of
// them includes. Find it with errors.As.
type ConfigFileError struct {
	File string // the file
	Line int    // the line, from 1; 0 when the mistake is not on one line
	Msg  string // what is wrong
	Err  error  // the cause, if any; its text follows Msg
}

// Error returns "file:line: msg: cause (fix the file)".
func (e *ConfigFileError) Error() string {
	return (*sshconfig.Error)(e).Error() + " (fix the file)"
}

// Unwrap returns the cause.
func (e *ConfigFileError) Unwrap() error { return e.Err }

// configError returns a *ConfigFileError about the value of key, at the
// file and line it came from.
func configError(hc *sshconfig.Host, key string, err error, format string, a ...any) error {
	e := &ConfigFileError{File: "ssh config", Msg: fmt.Sprintf(format, a...), Err: err}
	if file, line := hc.Origin(key); file != "" {
		e.File, e.Line = file, line
	}
	return e
}

// number reads key as a whole number, 0 when it is not set. A value that
// is not a number, or is below min, is an error naming the value, host
// alias and what it should be, at the line it came from.
func number(hc *sshconfig.Host, key, alias string, min int, what string) (int, error) {
	v := hc.Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, configError(hc, key, nil, "%s %q for %s is not %s", key, v, alias, what)
	}
	return n, nil
}

// resolve turns a host string into an endpoint, consulting ssh_config and
// cfg, and resolves its ProxyJump hops the same way.
func resolve(sc *sshConfig, cfg *Config, host string) (*endpoint, error) {
	return resolveChain(sc, cfg, host, nil, true)
}

// jumpLoopError is returned as is through the chain of hops.
type jumpLoopError struct{ msg string }

func (e *jumpLoopError) Error() string { return e.msg }

// resolveChain resolves host; chain lists the hosts whose ProxyJump led
// here, to catch loops. withJumps false leaves the host's own ProxyJump
// out (a later hop is reached through the hops before it).
func resolveChain(sc *sshConfig, cfg *Config, host string, chain []string, withJumps bool) (*endpoint, error) {
	a, err := ParseHost(host)
	if err != nil {
		return nil, err
	}
	if err := checkChain(sc, chain, a.Host); err != nil {
		return nil, err
	}
	alias := a.Host
	hc := sc.Lookup(alias, a.User, cfg.User)
	ep := &endpoint{name: host, alias: alias, hostName: alias}
	if hn := hc.Get("HostName"); hn != "" {
		ep.hostName = sshconfig.ExpandHostName(hn, alias)
	}
	if ep.port, err = resolvePort(hc, a); err != nil {
		return nil, err
	}
	if ep.user, err = resolveUser(hc, cfg, a, host); err != nil {
		return nil, err
	}
	tok := tokens{alias: alias, host: ep.hostName, port: ep.port, user: ep.user}
	ep.resolveIdentities(hc, cfg, tok)
	ep.resolveHostKeys(hc, cfg, tok)
	if err := ep.resolveTimers(hc, cfg); err != nil {
		return nil, err
	}
	if cfg.ForwardAgent {
		switch fa := hc.Get("ForwardAgent"); {
		case isYes(fa):
			ep.forwardAgent = true
		case fa == "" || strings.EqualFold(fa, "no") || strings.EqualFold(fa, "false"):
		default:
			return nil, configError(hc, "ForwardAgent", nil,
				"ForwardAgent %q for %s: gotask takes yes or no (to forward another agent, set SSH_AUTH_SOCK)", fa, alias)
		}
	}
	if ep.controlPersist, ep.persist, err = controlPersist(hc.Get("ControlPersist")); err != nil {
		return nil, configError(hc, "ControlPersist", err, "ControlPersist for host %s", alias)
	}
	if !withJumps {
		return ep, nil
	}
	if pc := hc.Get("ProxyCommand"); pc != "" && pc != "none" {
		if ep.proxyCommand, err = proxyCommandLine(pc, tok); err != nil {
			return nil, configError(hc, "ProxyCommand", err, "ProxyCommand for host %s", alias)
		}
	}
	return ep, ep.resolveJumps(sc, hc, cfg, chain)
}

// checkChain refuses a ProxyJump chain that comes back to host, or that
// nests too deep.
func checkChain(sc *sshConfig, chain []string, host string) error {
	for _, h := range chain {
		if h == host {
			return &jumpLoopError{fmt.Sprintf("ProxyJump loop %s -> %s; fix ProxyJump in %s",
				strings.Join(chain, " -> "), host, sc.Where())}
		}
	}
	if len(chain) > maxJumpDepth {
		return &jumpLoopError{fmt.Sprintf("ProxyJump chain %s nests more than %d deep; shorten it in %s",
			strings.Join(chain, " -> "), maxJumpDepth, sc.Where())}
	}
	return nil
}

// resolvePort is the host string's port, else Port, else 22.
func resolvePort(hc *sshconfig.Host, a Addr) (int, error) {
	if a.Port != 0 {
		return a.Port, nil
	}
	p := hc.Get("Port")
	if p == "" {
		return 22, nil
	}
	n, err := parsePort(p)
	if err != nil {
		return 0, configError(hc, "Port", err, "bad Port for %s", a.Host)
	}
	return n, nil
}

// resolveUser is the host string's user, else User, else Config.User,
// else this process's user.
func resolveUser(hc *sshconfig.Host, cfg *Config, a Addr, host string) (string, error) {
	for _, u := range []string{a.User, hc.Get("User"), cfg.User} {
		if u != "" {
			return u, nil
		}
	}
	if u := sshconfig.LocalUser(); u != "" {
		return u, nil
	}
	return "", fmt.Errorf("no user for %s: write user@%s, set User in ssh_config, or set $USER", host, a.Host)
}

// resolveIdentities lists the key files to offer: Config.IdentityFiles
// (explicit), then IdentityFile lines, each once; OpenSSH's default
// files when neither names any.
func (ep *endpoint) resolveIdentities(hc *sshconfig.Host, cfg *Config, tok tokens) {
	ep.explicitKeys = map[string]bool{}
	seen := map[string]bool{}
	add := func(f string, explicit bool) {
		p := tok.expand(f)
		if !seen[p] {
			seen[p] = true
			if explicit {
				ep.explicitKeys[p] = true
			}
			ep.identityFiles = append(ep.identityFiles, p)
		}
	}
	for _, f := range cfg.IdentityFiles {
		add(f, true)
	}
	fromConfig := hc.GetAll("IdentityFile")
	for _, f := range fromConfig {
		add(f, false)
	}
	if len(cfg.IdentityFiles) == 0 && len(fromConfig) == 0 {
		for _, f := range []string{"id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk"} {
			ep.identityFiles = append(ep.identityFiles, tok.expand("~/.ssh/"+f))
		}
	}
	ep.identitiesOnly = isYes(hc.Get("IdentitiesOnly"))
}

// resolveHostKeys sets the known_hosts files and how unknown keys are
// treated: Config first, then UserKnownHostsFile, GlobalKnownHostsFile,
// StrictHostKeyChecking and HashKnownHosts.
func (ep *endpoint) resolveHostKeys(hc *sshconfig.Host, cfg *Config, tok tokens) {
	files := func(list []string) []string {
		var out []string
		for _, f := range list {
			if f != "none" {
				out = append(out, tok.expand(f))
			}
		}
		return out
	}
	switch user := hc.Args("UserKnownHostsFile"); {
	case len(cfg.KnownHostsFiles) > 0:
		ep.knownHosts = files(cfg.KnownHostsFiles)
	case len(user) > 0:
		ep.knownHosts = files(user)
	default:
		ep.knownHosts = []string{tok.expand("~/.ssh/known_hosts")}
	}
	if global := hc.Args("GlobalKnownHostsFile"); len(global) > 0 {
		ep.globalKnownHosts = files(global)
	} else {
		ep.globalKnownHosts = []string{"/etc/ssh/ssh_known_hosts"}
	}
	strict := strings.ToLower(hc.Get("StrictHostKeyChecking"))
	ep.acceptNew = cfg.AcceptNew || strict == "accept-new" || strict == "no" || strict == "off" || strict == "false"
	ep.hashKnownHosts = isYes(hc.Get("HashKnownHosts"))
}

// resolveTimers sets the connect timeout and keepalives: Config's when
// set, else ConnectTimeout, ServerAliveInterval and ServerAliveCountMax,
// else the defaults. An ssh_config value of 0 seconds keeps the default.
func (ep *endpoint) resolveTimers(hc *sshconfig.Host, cfg *Config) error {
	seconds := func(key string, fallback time.Duration) (time.Duration, error) {
		n, err := number(hc, key, ep.alias, 0, "a number of seconds")
		if err != nil || n <= 0 {
			return fallback, err
		}
		return time.Duration(n) * time.Second, nil
	}
	var err error
	if ep.connectTimeout = cfg.ConnectTimeout; ep.connectTimeout <= 0 {
		if ep.connectTimeout, err = seconds("ConnectTimeout", DefaultConnectTimeout); err != nil {
			return err
		}
	}
	if ep.keepalive = cfg.KeepaliveInterval; ep.keepalive == 0 {
		if ep.keepalive, err = seconds("ServerAliveInterval", DefaultKeepaliveInterval); err != nil {
			return err
		}
	}
	if ep.keepaliveMax = cfg.KeepaliveMax; ep.keepaliveMax <= 0 {
		n, err := number(hc, "ServerAliveCountMax", ep.alias, 1, "a positive number")
		if err != nil {
			return err
		}
		ep.keepaliveMax = cmp.Or(n, DefaultKeepaliveMax)
	}
	return nil
}

// resolveJumps resolves the hops of ProxyJump, like OpenSSH's
// "ssh -J j1 -W host j2" chain: the first hop is reached through its own
// ProxyJump, if any; the later hops through the ones before them.
func (ep *endpoint) resolveJumps(sc *sshConfig, hc *sshconfig.Host, cfg *Config, chain []string) error {
	pj := hc.Get("ProxyJump")
	if pj == "" || pj == "none" {
		return nil
	}
	hops, err := ParseJump(pj)
	if err != nil {
		return configError(hc, "ProxyJump", err, "for host %s", ep.alias)
	}
	for i, h := range hops {
		hep, err := resolveChain(sc, cfg, h.String(), append(chain[:len(chain):len(chain)], ep.alias), i == 0)
		var loop *jumpLoopError
		if errors.As(err, &loop) {
			return err
		}
		if err != nil {
			return fmt.Errorf("ProxyJump hop %s for %s: %w", h, ep.alias, err)
		}
		if i == 0 {
			ep.jumps = append(ep.jumps, hep.jumps...)
			hep.jumps = nil
		}
		ep.jumps = append(ep.jumps, hep)
	}
	return nil
}

// isYes reads an ssh_config flag: "yes" or "true", in any case.
func isYes(v string) bool {
	return strings.EqualFold(v, "yes") || strings.EqualFold(v, "true")
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// tokens expands the ssh_config TOKENS that IdentityFile,
// UserKnownHostsFile and friends accept, and a leading ~.
type tokens struct {
	alias, host, user string
	port              int
}

func (t tokens) expand(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			home, _ := os.UserHomeDir()
			b.WriteString(home)
		case 'h':
			b.WriteString(t.host)
		case 'n':
			b.WriteString(t.alias)
		case 'p':
			b.WriteString(strconv.Itoa(t.port))
		case 'r':
			b.WriteString(t.user)
		case 'u':
			b.WriteString(sshconfig.LocalUser())
		case 'l':
			h, _ := os.Hostname()
			b.WriteString(h)
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return expandHome(b.String())
}

// controlPersist reads ssh_config's ControlPersist: "yes" or 0 keep the
// connection until the mux is stopped (zero), "no" or nothing does not
// persist it, a number is seconds, and a Go duration (10m, 1h30m) is
// that long.
func controlPersist(v string) (time.Duration, bool, error) {
	switch {
	case v == "" || strings.EqualFold(v, "no") || strings.EqualFold(v, "false"):
		return 0, false, nil
	case isYes(v):
		return 0, true, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, false, fmt.Errorf("%q is not yes, no, a number of seconds or a duration like 10m", v)
	}
	return d, true, nil
}
