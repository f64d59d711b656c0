// Package remote runs gotask commands over SSH and copies files over
// SFTP, behaving like OpenSSH so that a user's existing setup just works.
//
// Dial connects to one host and returns a *Client, which is a
// runner.Runner and a runner.Copier. A Pool hands out one Client per host
// for a whole run, so that every step and task on a host shares its
// connections:
//
//	pool := remote.NewPool(&remote.Config{AcceptNew: acceptNewHostKeys})
//	defer pool.Close()
//	c, err := pool.Get(ctx, "deploy@web1:2222")
//	res, err := c.Run(ctx, &runner.Cmd{Command: "uptime"})
//	_, err = c.Put(ctx, "bin/app", "/opt/app/app.new", &runner.CopyOptions{Mode: 0o755})
//
// # Host strings and ssh_config
//
// A host is "host", "user@host", "host:port", "user@host:port", an IPv6
// address ("::1", "[::1]:2222") or an alias from ssh_config; see
// ParseHost. ssh_config is read from ~/.ssh/config and then
// /etc/ssh/ssh_config, or from Config.SSHConfig alone (the CLI's
// -F/--ssh-config; "none" reads no file). The package reads these files
// itself, with OpenSSH's rules (ssh_config(5)):
//
//   - A line is "Keyword value", "Keyword=value" or "Keyword = value";
//     keywords are case-insensitive, values are not. '#' at the start of
//     a line or of an argument begins a comment. An argument may be
//     quoted, in double or single quotes, to hold spaces; a backslash
//     escapes a quote, a backslash, or a space.
//   - For each keyword the first value obtained wins: ~/.ssh/config
//     before /etc/ssh/ssh_config, an earlier block before a later one.
//     IdentityFile, CertificateFile, LocalForward, RemoteForward,
//     DynamicForward and SendEnv add up instead (SetEnv and the
//     known-hosts files take several values on their first line).
//   - "Host PATTERN..." applies its block when a pattern matches the
//     host as given, without user and port (case-sensitively, as ssh
//     does), and no negated "!PATTERN" does; '*' matches any run of
//     characters and '?' exactly one. Lines before the first Host or
//     Match of a file apply to every host.
//   - "Match" applies its block when all its criteria hold: all, host,
//     originalhost, user, localuser, canonical and final, each negated
//     by a leading '!'; host, originalhost, user and localuser take a
//     comma-separated pattern list (host names compared in any case).
//     Match host sees the HostName set so far; Match user the user of
//     the host string, else the User set so far, else Config.User or the
//     local user. Like ssh, a "Match final" anywhere (or
//     CanonicalizeHostname yes) evaluates the files a second time, in
//     which Host and Match host see the HostName and canonical and final
//     hold; values obtained in the first pass stay. Match exec is never
//     run: a Match with exec, or with a criterion of a newer OpenSSH,
//     matches nothing.
//   - "Include FILE..." reads files, with glob patterns and ~; a
//     relative path is under ~/.ssh, or under /etc/ssh for the
//     system-wide file. An Include inside a Host or Match block applies
//     only where the block does. Includes nest at most 16 deep. Like
//     ssh, ~/.ssh/config and included files are refused when someone
//     other than their owner (the user or root) may write them.
//   - Keywords gotask does not use are ignored, so that a file written
//     for a newer OpenSSH still works. Syntax errors are not, even in
//     blocks that never apply: a keyword without a value, an unterminated
//     quote, a Host without a pattern, a Match criterion without its
//     argument, more than one value for a keyword that takes one, an
//     Include of a bad glob pattern or nested too deep. Each names the
//     file and line.
//
// gotask uses HostName (with %h), User, Port, ForwardAgent (see below), IdentityFile (with %d %h %n
// %p %r %u %l and ~), IdentitiesOnly, ProxyJump (several hops; the first
// hop's own ProxyJump or ProxyCommand applies, as with ssh -J),
// ProxyCommand (see below), UserKnownHostsFile,
// GlobalKnownHostsFile, StrictHostKeyChecking, HashKnownHosts,
// ConnectTimeout, ServerAliveInterval and ServerAliveCountMax. A value it
// cannot use (a Port that is not a number) is an error naming the file
// and line it came from.
//
// # ProxyCommand
//
// A ProxyCommand is run with sh -c; its stdin and stdout are the
// connection, its stderr goes to Config.ProxyStderr, and closing the
// connection hangs up its process group (killed 2s later if it lingers).
// It takes %h %n %p %r and %%; ssh pastes those values in raw, this
// package refuses one that holds anything but letters, digits and
// . _ - : @ +, so that no host or user name is ever shell code. Of
// ProxyJump and ProxyCommand the first obtained wins, as in ssh. The host
// key is checked against HostName and Port.
//
// # Agent forwarding
//
// The agent is forwarded to a command when its runner.Cmd.ForwardAgent
// is set, or when Config.ForwardAgent is set and ssh_config says
// "ForwardAgent yes" for the host; never otherwise. sshd grants
// auth-agent-req@openssh.com once per connection and then offers the
// agent to every later session of it, so the Client keeps connections
// that carry the agent apart and uses them only for commands that forward
// it. A host that refuses fails the command. ForwardAgent takes yes or
// no; a socket path is an error.
//
// # Authentication
//
// All keys go into one publickey method, so each is offered once and the
// server's MaxAuthTries is not spent: the ssh-agent's keys
// (SSH_AUTH_SOCK or Config.AgentSocket; with IdentitiesOnly only those
// matching an identity file), then Config.IdentityFiles, then
// ssh_config's IdentityFile entries (or the OpenSSH default key files).
// A certificate in KEY-cert.pub is offered before its key. An encrypted
// key is decrypted only when the server would accept it, with
// Config.Passphrase; without that callback it is skipped and the error
// says which key was encrypted and how to fix it. Password and
// keyboard-interactive authentication use Config.Password when set.
//
// # Host keys
//
// known_hosts is always checked (golang.org/x/crypto/ssh/knownhosts via
// github.com/skeema/knownhosts): hashed entries, [host]:port,
// @cert-authority and @revoked lines. The host key algorithms asked for
// are the types known_hosts holds for the host, so a server with several
// keys presents the one that can be checked. An unknown host is refused
// with a *HostKeyError giving the key's SHA256 fingerprint and how to
// accept it (--accept-new-host-keys), unless Config.AcceptNew or
// StrictHostKeyChecking accept-new/no allows recording it: the line is
// appended to the first UserKnownHostsFile under an exclusive flock(2).
// A changed or revoked key is always refused, naming the known_hosts file
// and line.
// A Pool (or one Dial) reads each set of known_hosts files once and shares
// it with every dial; keys it records count for its later dials.
//
// # Connections, sessions and keepalives
//
// The connect timeout (Config.ConnectTimeout, ssh_config ConnectTimeout,
// else 15s) covers the TCP connection, the SSH handshake and
// authentication of every hop, not the time a user takes to type a
// passphrase, nor the time a connection waits for its turn: a Pool sets
// up at most Config.MaxHandshakes connections at once (4 per CPU by
// default). A Pool closes a host that no Get holds (Pool.Release) once
// more than Config.MaxIdleHosts (64) others were released after it. Every connection sends keepalive@openssh.com requests
// (every 15s by default, ServerAliveInterval) and is declared dead after
// 3 (ServerAliveCountMax) unanswered ones; commands running on it then
// fail with an error wrapping runner.ErrOutcomeUnknown that names the
// host. A Client carries at most Config.MaxSessions (10, OpenSSH's
// MaxSessions) sessions per connection and opens another connection when
// all are busy or the server refuses a session; a connection that died
// between commands is replaced transparently.
//
// # Commands
//
// See Client.Run. Env and Dir are applied by the command line itself
// ("cd DIR && env K=V... sh -c CMD", every value quoted), never by SSH
// env requests, which most servers refuse (AcceptEnv). A pseudo-terminal
// is requested for runner.PtyOn, or for runner.PtyAuto when Cmd.Stdin is
// a terminal; that terminal is then put in raw mode for the duration and
// its size follows SIGWINCH.
//
// # Connections that outlive the run
//
// With Config.Persist, a Client connects through the user's mux (see
// Persist, ListenMux): a process that holds the host connections between
// runs and serves each run as an SSH server on a unix socket, passing
// every channel and request on to the host. The run still checks the
// host key with its own known_hosts on every use, and the mux logs in
// only with the keys the run serves it, during that dial; connections are
// kept under the user, host, port, known_hosts files, ProxyCommand and
// the keys' fingerprints. ProxyJump hosts, connections that forward the
// agent and reverse tunnels connect directly, as does a host that wants
// a password when Config.Password is set.
//
// # Known gaps
//
//   - ssh_config: Match exec is never run (its block does not apply).
//     Host names are not canonicalized: CanonicalizeHostname only asks
//     for the final pass. Include paths take no %tokens or ${VAR}.
//     ConnectTimeout and ServerAliveInterval take whole seconds, without
//     units. HostKeyAlias, CertificateFile, AddKeysToAgent,
//     PreferredAuthentications, Ciphers/MACs/KexAlgorithms/
//     HostKeyAlgorithms, SendEnv/SetEnv, ControlMaster, ControlPath
//     and forwarding options are read but not used (ControlPersist is,
//     with Config.Persist). The host name is dialed and looked
//     up in known_hosts in the case it was given, where ssh lowercases it.
//   - Authentication: no GSSAPI, no hostbased, no FIDO (sk-*) key files
//     (sk keys work through the agent); PKCS#11 is not supported.
//   - Host keys: CheckHostIP and UpdateHostKeys are not implemented;
//     VerifyHostKeyDNS is ignored. StrictHostKeyChecking=ask refuses
//     like "yes" (there is nobody to ask).
//   - Stopping a command reaches its process group through `kill` in a
//     second session, using the process id the login shell reports as
//     the command starts (see Client.Run). A process that left the group
//     (setsid, a daemon) is not reached, nor, without a pty, processes
//     of another user (a command run through sudo): kill runs as the
//     login user. A server whose shell prints no
//     report (not a POSIX sh, csh or fish, or not sshd's setsid) falls
//     back to the "signal" channel request, which OpenSSH refuses for
//     root logins and for a group whose shell has exited; its session is
//     then closed and abandoned after the grace periods. The processes
//     of a command whose connection is lost are left to the host.
//   - Put and Get copy regular files (following symlinks, and a symlink
//     to a directory at the root of the copy); other file
//     types in a tree are skipped; ownership and times are not kept;
//     files at the destination that the source lacks are not deleted.
package remote
