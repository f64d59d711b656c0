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
// /etc/ssh/ssh_config (the first value found wins, as in OpenSSH), or
// from Config.SSHConfig alone (the CLI's -F/--ssh-config). Honoured
// keywords: Host patterns (with negation and wildcards), Include,
// HostName, User, Port, IdentityFile (accumulated, with %d %h %n %p %r
// %u %l and ~), IdentitiesOnly, ProxyJump (several hops; the first hop's
// own ProxyJump applies, as with ssh -J), UserKnownHostsFile,
// GlobalKnownHostsFile, StrictHostKeyChecking, HashKnownHosts,
// ConnectTimeout, ServerAliveInterval and ServerAliveCountMax. A parse
// error names the file and line.
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
//
// # Connections, sessions and keepalives
//
// The connect timeout (Config.ConnectTimeout, ssh_config ConnectTimeout,
// else 15s) covers the TCP connection, the SSH handshake and
// authentication of every hop, not the time a user takes to type a
// passphrase. Every connection sends keepalive@openssh.com requests
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
// # Known gaps
//
//   - ssh_config: Match blocks other than "Match all" and a lone
//     "Match host LIST" (exec, user, localuser, originalhost, canonical,
//     final, tagged) are treated as matching nothing, and a file reached
//     through Include that uses them fails to parse. CanonicalizeHostname,
//     HostKeyAlias, ProxyCommand, CertificateFile, AddKeysToAgent,
//     PreferredAuthentications, Ciphers/MACs/KexAlgorithms/
//     HostKeyAlgorithms, SendEnv/SetEnv, ControlMaster and forwarding
//     options are ignored. A relative Include in /etc/ssh/ssh_config is
//     resolved against ~/.ssh (Debian's default uses an absolute path).
//   - Authentication: no GSSAPI, no hostbased, no FIDO (sk-*) key files
//     (sk keys work through the agent); PKCS#11 is not supported.
//   - Host keys: CheckHostIP and UpdateHostKeys are not implemented;
//     VerifyHostKeyDNS is ignored. StrictHostKeyChecking=ask refuses
//     like "yes" (there is nobody to ask).
//   - Stopping a command without a pty relies on the "signal" channel
//     request. OpenSSH (8.1 and later) delivers it to the command's
//     process group, but refuses it for root logins ("session signalling
//     requires privilege separation"): as root, such a command keeps
//     running after a timeout or Ctrl-C, and its session is closed and
//     abandoned after the grace periods. Use a pty (closing it hangs up
//     the process group) for commands that must die with their session.
//   - Put and Get copy regular files (following symlinks); other file
//     types in a tree are skipped; ownership and times are not kept;
//     files at the destination that the source lacks are not deleted.
package remote
