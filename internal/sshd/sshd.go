// Package sshd starts a real OpenSSH sshd on a free loopback port, for
// the tests (through internal/sshtest, which adds keys and testing.TB) and
// for the benchmarks, which cannot use package testing's helpers.
package sshd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options says what to start.
type Options struct {
	// Dir is where sshd_config is written; it must exist.
	Dir string
	// HostKey is the host's private key file.
	HostKey string
	// AuthorizedKeys is the AuthorizedKeysFile, for every user.
	AuthorizedKeys string
	// LogLevel is sshd's LogLevel; empty means VERBOSE. It must be INFO
	// or more (VERBOSE, DEBUG...): Start waits for sshd's own "Server
	// listening on" line, which sshd logs at INFO.
	LogLevel string
	// Home is the HOME that commands run with (sshd's SetEnv): an empty
	// directory that the login user can enter, so that the login shell
	// (bash, run by sshd with -c, reads ~/.bashrc even then) finds no
	// dotfiles, whatever the machine's are. Empty means a directory
	// "home" made in Dir. sshd still starts commands and the SFTP
	// server in the login directory from the password database.
	Home string
	// Config holds more sshd_config lines. They come first, so they win
	// over the defaults: for most keywords sshd keeps the first value.
	Config []string
}

// Server is a running sshd.
type Server struct {
	Addr string // 127.0.0.1:PORT
	Port int

	cmd  *exec.Cmd
	done chan struct{} // closed when sshd has exited
	log  syncBuffer    // sshd's stderr
}

// Find returns the sshd binary, or "" when there is none.
func Find() string {
	if _, err := os.Stat("/usr/sbin/sshd"); err == nil {
		return "/usr/sbin/sshd"
	}
	if p, err := exec.LookPath("sshd"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return ""
}

// Start runs bin (see Find) as `sshd -D -e` on a free loopback port and
// waits until that sshd logs that it listens there: a connection
// accepted on the port could come from another program that took it
// first. It allows root logins, public key authentication only, TCP
// forwarding (for ProxyJump) and the internal SFTP server, and runs
// commands with HOME set to an empty directory (see Options.Home). As
// root it creates sshd's privilege separation directory /run/sshd if
// missing. Stop it with Stop.
func Start(ctx context.Context, bin string, opts Options) (*Server, error) {
	if os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, fmt.Errorf("creating sshd's privilege separation directory: %w", err)
		}
	}
	var lastErr error
	// A port found free can be taken before sshd binds it; try another.
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := start(ctx, bin, opts, port)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("starting sshd: %w", lastErr)
}

func start(ctx context.Context, bin string, opts Options, port int) (*Server, error) {
	level := opts.LogLevel
	if level == "" {
		level = "VERBOSE"
	}
	switch strings.ToUpper(level) {
	case "QUIET", "FATAL", "ERROR":
		return nil, fmt.Errorf("LogLevel %s: sshd would not log that it listens; use INFO or more", level)
	}
	home := opts.Home
	if home == "" {
		home = filepath.Join(opts.Dir, "home")
		if err := os.MkdirAll(home, 0o755); err != nil {
			return nil, fmt.Errorf("making the sessions' empty HOME: %w", err)
		}
	}
	config := append(append([]string{}, opts.Config...),
		"SetEnv HOME="+home,
		"Port "+strconv.Itoa(port),
		"ListenAddress 127.0.0.1",
		"HostKey "+opts.HostKey,
		"AuthorizedKeysFile "+opts.AuthorizedKeys,
		"PidFile none",
		"StrictModes no",
		"UsePAM no",
		"PermitRootLogin yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"AllowTcpForwarding yes",
		"Subsystem sftp internal-sftp",
		"UseDNS no",
		"PrintMotd no",
		"PrintLastLog no",
		"X11Forwarding no",
		"MaxStartups 100:30:200",
		"LogLevel "+level,
		"",
	)
	cfgFile := filepath.Join(opts.Dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(strings.Join(config, "\n")), 0o600); err != nil {
		return nil, err
	}
	// Not CommandContext: ctx bounds the start, Stop ends the server.
	s := &Server{Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{})}
	ready := make(chan struct{})
	s.log.watch("Server listening on 127.0.0.1 port "+strconv.Itoa(port)+".", ready)
	s.cmd = exec.Command(bin, "-D", "-e", "-f", cfgFile)
	s.cmd.Stderr = &s.log
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	// Only a hang guard: sshd says it listens, or exits, long before.
	guard := time.NewTimer(2 * time.Minute)
	defer guard.Stop()
	select {
	case <-ready:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("sshd exited: %s", strings.TrimSpace(s.log.String()))
	case <-ctx.Done():
	case <-guard.C:
	}
	s.cmd.Process.Kill()
	<-s.done
	return nil, errors.Join(ctx.Err(), fmt.Errorf("sshd did not say it listens on %s: %s", s.Addr, strings.TrimSpace(s.log.String())))
}

// Log returns what sshd has written to stderr so far.
func (s *Server) Log() string { return s.log.String() }

// Stop stops the listening sshd: an interrupt, then a kill after five
// seconds. The sessions it forked end with their connections.
func (s *Server) Stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
// It can watch for one whole line and close a channel when it comes.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	line    string        // the line watched for, without its newline
	seen    chan struct{} // closed when line has come; nil once it has
	scanned int           // bytes of b already searched for line
}

// watch closes seen once line has been written as a whole line.
func (b *syncBuffer) watch(line string, seen chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.line, b.seen = line, seen
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.b.Write(p)
	for b.seen != nil {
		rest := b.b.Bytes()[b.scanned:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		if string(bytes.TrimSuffix(rest[:i], []byte("\r"))) == b.line {
			close(b.seen)
			b.seen = nil
		}
		b.scanned += i + 1
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
