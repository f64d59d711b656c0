package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gotask/gotask/internal/sshd"
)

// sshdSetup is a real OpenSSH sshd on a free loopback port (internal/sshd),
// started for the remote and fanout benchmarks.
//
// config is an ssh_config for both ssh -F and gotask -F: host aliases
// h1, h2, ... all reach this server as the current user, with the
// generated client key and a known_hosts that holds the host key.
type sshdSetup struct {
	dir    string // keys and configuration
	config string // the ssh_config
	server *sshd.Server
}

// errNoSSHD skips the benchmarks that need an sshd.
var errNoSSHD = skipf("no sshd")

// startSSHD starts an sshd with its files in a new directory under e.dir
// and registers its stop with e. Without sshd (or ssh, scp, ssh-keygen)
// it returns errNoSSHD.
func (e *env) startSSHD(ctx context.Context) (*sshdSetup, error) {
	bin := sshd.Find()
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
	dir := filepath.Join(e.dir, "sshd")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	d := &sshdSetup{dir: dir}
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

	home := d.path("home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	d.server, err = sshd.Start(ctx, bin, sshd.Options{
		Dir:            dir,
		HostKey:        hostKey,
		AuthorizedKeys: d.path("authorized_keys"),
		LogLevel:       "INFO", // Start waits for the line saying it listens
		// bash, started by sshd, sources ~/.bashrc even for `bash -c
		// true`; a login's own set-up (pyenv init, say) would add the
		// same time to every command of both sides and hide what SSH
		// costs. An empty HOME keeps it out.
		Home: home,
		Config: []string{
			"MaxStartups 300:30:600",
			// For cpu: the listener's /proc entry.
			"PidFile " + d.path("sshd.pid"),
			"MaxSessions 50",
		},
	})
	if err != nil {
		return nil, err
	}
	e.cleanup(d.server.Stop)

	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		return nil, err
	}
	known := fmt.Sprintf("[127.0.0.1]:%d %s", d.server.Port, hostPub)
	if err := os.WriteFile(d.path("known_hosts"), []byte(known), 0o600); err != nil {
		return nil, err
	}
	d.config = d.path("ssh_config")
	cfg := strings.Join([]string{
		"Host h*",
		"  HostName 127.0.0.1",
		"  Port " + strconv.Itoa(d.server.Port),
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

// cpu returns the CPU time (user + system) of the listening sshd and of
// the processes it has reaped: an sshd per connection, forked for the
// key exchange and the login, and what each of those reaped in turn,
// the shells of the commands. logins is how many logins sshd accepted.
// It first waits, five seconds at most, for sshd to reap the
// connections that are closing. Linux only.
func (d *sshdSetup) cpu() (cpu time.Duration, logins int, err error) {
	b, err := os.ReadFile(d.path("sshd.pid"))
	if err != nil {
		return 0, 0, err
	}
	pid := strings.TrimSpace(string(b))
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		kids, err := os.ReadFile("/proc/" + pid + "/task/" + pid + "/children")
		if err != nil || len(bytes.TrimSpace(kids)) == 0 {
			break
		}
	}
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// After "(comm)": state is field 3, utime..cstime are 14 to 17,
	// in clock ticks (USER_HZ, 100 on Linux).
	_, rest, ok := bytes.Cut(stat, []byte(") "))
	fields := strings.Fields(string(rest))
	if !ok || len(fields) < 15 {
		return 0, 0, fmt.Errorf("/proc/%s/stat: %q is not a process's stat", pid, stat)
	}
	var ticks int64
	for _, f := range fields[11:15] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%s/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, strings.Count(d.server.Log(), "Accepted publickey for "), nil
}

func (d *sshdSetup) path(name string) string { return filepath.Join(d.dir, name) }

// aliases returns "h1,h2,...,hn", for -H.
func aliases(n int) string {
	hs := make([]string, n)
	for i := range hs {
		hs[i] = "h" + strconv.Itoa(i+1)
	}
	return strings.Join(hs, ",")
}
