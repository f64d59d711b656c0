package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sshd is a real OpenSSH sshd on a free loopback port, started for the
// remote and fanout benchmarks, as internal/sshtest.StartSSHD does for
// tests (which bench cannot import: it depends on package testing).
//
// config is an ssh_config for both ssh -F and gotask -F: host aliases
// h1, h2, ... all reach this server as the current user, with the
// generated client key and a known_hosts that holds the host key.
type sshd struct {
	dir    string // keys and configuration
	port   int
	config string // the ssh_config

	cmd  *exec.Cmd
	done chan struct{} // closed when sshd has exited
	log  syncBuffer    // sshd's stderr (LogLevel ERROR)
}

// errNoSSHD skips the benchmarks that need an sshd.
var errNoSSHD = skipf("no sshd")

// findSSHD returns the sshd binary, or "" when there is none.
func findSSHD() string {
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

// startSSHD starts an sshd with its files in a new directory under e.dir
// and registers its stop with e. Without sshd (or ssh, scp, ssh-keygen)
// it returns errNoSSHD.
func (e *env) startSSHD(ctx context.Context) (*sshd, error) {
	bin := findSSHD()
	if bin == "" {
		return nil, errNoSSHD
	}
	for _, tool := range []string{"ssh", "scp", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, skipf("no %s", tool)
		}
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// sshd's privilege separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, err
		}
	}
	dir := filepath.Join(e.dir, "sshd")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	d := &sshd{dir: dir}
	hostKey, clientKey := d.path("ssh_host_ed25519_key"), d.path("id_ed25519")
	for _, k := range []string{hostKey, clientKey} {
		kg := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gotask-bench", "-f", k)
		if out, err := kg.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ssh-keygen: %w: %s", err, out)
		}
	}
	pub, err := os.ReadFile(clientKey + ".pub")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(d.path("authorized_keys"), pub, 0o600); err != nil {
		return nil, err
	}

	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		if lastErr = d.start(ctx, bin, hostKey, port); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return nil, fmt.Errorf("starting sshd: %w", lastErr)
	}
	e.cleanup(d.stop)

	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		return nil, err
	}
	known := fmt.Sprintf("[127.0.0.1]:%d %s", d.port, hostPub)
	if err := os.WriteFile(d.path("known_hosts"), []byte(known), 0o600); err != nil {
		return nil, err
	}
	d.config = d.path("ssh_config")
	cfg := strings.Join([]string{
		"Host h*",
		"  HostName 127.0.0.1",
		"  Port " + strconv.Itoa(d.port),
		"  User " + u.Username,
		"  IdentityFile " + clientKey,
		"  IdentitiesOnly yes",
		"  UserKnownHostsFile " + d.path("known_hosts"),
		"  GlobalKnownHostsFile /dev/null",
		"  StrictHostKeyChecking yes",
		"  BatchMode yes",
		"  UpdateHostKeys no",
		"  LogLevel ERROR",
		"",
	}, "\n")
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *sshd) path(name string) string { return filepath.Join(d.dir, name) }

// start runs sshd on port and waits until it accepts connections.
func (d *sshd) start(ctx context.Context, bin, hostKey string, port int) error {
	config := strings.Join([]string{
		fmt.Sprintf("Port %d", port),
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + d.path("authorized_keys"),
		"PidFile none",
		"StrictModes no",
		"UsePAM no",
		"PermitRootLogin yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"Subsystem sftp internal-sftp",
		"UseDNS no",
		"PrintMotd no",
		"PrintLastLog no",
		"X11Forwarding no",
		"MaxStartups 300:30:600",
		"MaxSessions 50",
		"LogLevel ERROR",
		// bash, started by sshd, sources ~/.bashrc even for `bash -c
		// true`; a login's own set-up (pyenv init, say) would add the
		// same time to every command of both sides and hide what SSH
		// costs. An empty HOME keeps it out.
		"SetEnv HOME=" + d.path("home"),
		"",
	}, "\n")
	if err := os.MkdirAll(d.path("home"), 0o755); err != nil {
		return err
	}
	cfgFile := d.path("sshd_config")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		return err
	}
	// Not CommandContext: the stop is ours, after the benchmark.
	cmd := exec.Command(bin, "-D", "-e", "-f", cfgFile)
	cmd.Stderr = &d.log
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("sshd exited: %s", strings.TrimSpace(d.log.String()))
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			d.cmd, d.done, d.port = cmd, done, port
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			cmd.Process.Kill()
			<-done
			return errors.Join(ctx.Err(), fmt.Errorf("sshd did not listen on %s", addr))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop stops the listening sshd; the sessions it forked end with their
// connections, which the benchmarks close.
func (d *sshd) stop() {
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// aliases returns "h1,h2,...,hn", for -H.
func aliases(n int) string {
	hs := make([]string, n)
	for i := range hs {
		hs[i] = "h" + strconv.Itoa(i+1)
	}
	return strings.Join(hs, ",")
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
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
