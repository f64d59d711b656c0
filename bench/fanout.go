package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fanoutBenchmarks measures one command on many hosts at once: up to
// 1,000 ssh_config aliases of one real sshd on a loopback port, so that
// every host entry costs a connection and a handshake of its own; at 50
// hosts against ssh, pssh and Fabric on the same aliases.
func fanoutBenchmarks() []benchmark {
	return []benchmark{
		fanoutVsPeer("fanout/50-hosts-vs-ssh", 0.33, "≤ 0.33x 50 `ssh` started at once (at least 3x faster)", sshPeer()),
		// A diagnostic, not a DESIGN.md target: OpenSSH 9.x picks
		// sntrup761x25519 by default, whose key generation costs each
		// ssh tens of milliseconds of CPU; gotask (x/crypto) picks
		// curve25519-sha256 and aes128-gcm. This row gives ssh those
		// too, so that only one process against 50 differs.
		fanoutVsPeer("fanout/50-hosts-vs-ssh-same-kex", 1, "≤ 1x 50 `ssh` started at once with gotask's curve25519-sha256 and aes128-gcm (diagnostic)",
			sshPeer("-o", "KexAlgorithms=curve25519-sha256", "-o", "Ciphers=aes128-gcm@openssh.com")),
		fanoutVsPeer("fanout/50-hosts-vs-pssh", 0.33, "≤ 0.33x pssh's `parallel-ssh -p 50` (at least 3x faster)", psshPeer),
		fanoutVsPeer("fanout/50-hosts-vs-fabric", 0.5, "≤ 0.5x Fabric's ThreadingGroup (at least 2x faster)", fabricPeer),
		fanoutVsOneHost(),
		fanoutRSS(),
		groupedRSS(),
		// 1,000 hosts at -P 1000 take about 15 s a run here, mostly
		// sshd's forks and handshakes on two cores.
		fanoutScale(1, 5, 0, 0),
		fanoutScale(50, 5, 6*time.Millisecond, 0),
		fanoutScale(200, 3, 6*time.Millisecond, 0),
		fanoutScale(1000, 1, 6*time.Millisecond, 100_000_000),
	}
}

// bigKnownHosts writes a known_hosts of n lines, n-1 of them for other
// hosts, and an ssh_config like d.config that uses it; it returns the
// config's path. Every dial of a run needs the file parsed; before gotask
// shared one parse per run, each host cost about 25 ms and 2.7 MB more
// with 5,000 lines.
func bigKnownHosts(d *sshdSetup, n int) (string, error) {
	known, err := os.ReadFile(d.path("known_hosts"))
	if err != nil {
		return "", err
	}
	_, key, ok := strings.Cut(strings.TrimSpace(string(known)), " ")
	if !ok {
		return "", fmt.Errorf("%s: no key on its line", d.path("known_hosts"))
	}
	var b strings.Builder
	for i := range n - 1 {
		fmt.Fprintf(&b, "[10.%d.%d.%d]:22 %s\n", i>>16&255, i>>8&255, i&255, key)
	}
	b.Write(known)
	kh := d.path(fmt.Sprintf("known_hosts-%d", n))
	if err := os.WriteFile(kh, []byte(b.String()), 0o600); err != nil {
		return "", err
	}
	cfg, err := os.ReadFile(d.config)
	if err != nil {
		return "", err
	}
	cfg = []byte(strings.Replace(string(cfg), "UserKnownHostsFile "+d.path("known_hosts"), "UserKnownHostsFile "+kh, 1))
	p := d.path(fmt.Sprintf("ssh_config-%d", n))
	return p, os.WriteFile(p, cfg, 0o600)
}

// fanoutScale: one command on n hosts at once (-P n) with a 5,000-line
// known_hosts against the same with a 1-line one, gotask's own CPU time
// per host in both cells. The file is parsed once per run, not per
// host, so the CPU ratio stays near 1 past a few hosts; the goal
// is a CPU time per host under cpuLimit and flat from 50 hosts to 1,000
// (the rows side by side), and, with rssLimit, a bound on peak RSS.
// Every host must end ok: one unreachable fails the row.
func fanoutScale(n, runs int, cpuLimit time.Duration, rssLimit int64) benchmark {
	var d *sshdSetup
	var big string
	hosts := "hosts"
	if n == 1 {
		hosts = "host"
	}
	target := "for scale: gotask's start and one parse of the 5,000 lines are not spread over hosts (≤ 2x the 1-line file)"
	ratioTarget := 2.0
	if cpuLimit > 0 {
		target = fmt.Sprintf("gotask CPU a host ≤ 1x %s (and flat from 50 hosts on: see the rows)", formatDuration(cpuLimit))
		ratioTarget = 1
		if rssLimit > 0 {
			target += fmt.Sprintf("; peak RSS ≤ 1x %.0f MB", float64(rssLimit)/1e6)
		}
	}
	return benchmark{
		name:        fmt.Sprintf("fanout/%d-%s-5000-line-known-hosts", n, hosts),
		target:      target + "; baseline: a 1-line known_hosts",
		ratioTarget: ratioTarget,
		runs:        runs,
		hosts:       n,
		cpuLimit:    cpuLimit,
		rssLimit:    rssLimit,
		setup: func(ctx context.Context, e *env) (err error) {
			if err = fanoutSetup(ctx, e, &d); err != nil {
				return err
			}
			big, err = bigKnownHosts(d, 5000)
			return err
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return gotaskHosts(ctx, e, big, n)
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			return gotaskHosts(ctx, e, d.config, n)
		},
	}
}

// fanoutSetup starts the server and writes the task, one `true`. When
// the benchmark is over, a note gives sshd's CPU time a login, to set
// beside gotask's own a host.
func fanoutSetup(ctx context.Context, e *env, d **sshdSetup) (err error) {
	if *d, err = e.startSSHD(ctx); err != nil {
		return err
	}
	server := *d
	e.cleanup(func() {
		cpu, logins, err := server.cpu()
		switch {
		case err != nil:
			e.notef("sshd's CPU time unknown: %v", err)
		case logins > 0:
			e.notef("sshd: %s of CPU a login (the forked sshd's key exchange and login, and the shell running the command; %d logins, %s in all)",
				formatDuration(cpu/time.Duration(logins)), logins, formatDuration(cpu))
		}
	})
	return e.writeTasks("[tasks.one]\nrun = \"true\"\n")
}

// gotaskOn runs task one on hosts h1..hn, all at once.
func gotaskOn(ctx context.Context, e *env, d *sshdSetup, n int) (sample, error) {
	return gotaskHosts(ctx, e, d.config, n)
}

// gotaskHosts runs task one on hosts h1..hn, all at once (-P n), with
// the ssh_config config. When a host does not end ok, the error counts
// them by status and names the first few, from gotask's summary.
func gotaskHosts(ctx context.Context, e *env, config string, n int) (sample, error) {
	c := e.command(ctx, e.gotask, "-f", "tasks.toml", "-F", config, "-P", strconv.Itoa(n), "-H", aliases(n), "one")
	smp, err := timeCmd(c)
	if err != nil {
		if b, ok := c.Stderr.(*bytes.Buffer); ok {
			if msg := hostFailures(b.String(), 3); msg != "" {
				return smp, fmt.Errorf("%d hosts: %s", n, msg)
			}
		}
	}
	return smp, err
}

// hostFailures reads the summary gotask prints on stderr after a run on
// several hosts and returns how many hosts did not end ok, by status,
// and the first few of them with why: "3 of 1000 hosts not ok (2
// unreachable, 1 failed): h7 unreachable (...); ...". It returns "" when
// there is no summary or it names no such host.
func hostFailures(stderr string, first int) string {
	_, summary, ok := strings.Cut(stderr, "\ntask ")
	if !ok {
		return ""
	}
	lines := strings.Split(summary, "\n")
	var task string
	var good, total int
	if _, err := fmt.Sscanf(lines[0], "%s %d of %d hosts ok", &task, &good, &total); err != nil {
		return ""
	}
	counts := map[string]int{}
	var order, named []string
	for _, line := range lines[1:] {
		// "  host  duration  status (detail)", the duration maybe blank.
		fields := strings.Fields(line)
		if !strings.HasPrefix(line, "  ") || len(fields) < 2 {
			continue
		}
		i := slices.IndexFunc(fields[1:], func(f string) bool {
			return slices.Contains([]string{"ok", "failed", "unreachable", "skipped"}, f)
		}) + 1
		if i == 0 || fields[i] == "ok" {
			continue
		}
		if counts[fields[i]] == 0 {
			order = append(order, fields[i])
		}
		counts[fields[i]]++
		if len(named) < first {
			named = append(named, fields[0]+" "+strings.Join(fields[i:], " "))
		}
	}
	if len(order) == 0 {
		return ""
	}
	by := make([]string, len(order))
	for i, s := range order {
		by[i] = fmt.Sprintf("%d %s", counts[s], s)
	}
	return fmt.Sprintf("%d of %d hosts not ok (%s): %s", total-good, total, strings.Join(by, ", "), strings.Join(named, "; "))
}

// peerHosts is how many hosts the rows against other tools use.
const peerHosts = 50

// peer prepares another tool's run of the command on hosts h1..h50. It
// is called first with d nil, to say whether the tool is there (a skip
// error saying how to install it, if not), then with the server, to
// return the timed run.
type peer func(ctx context.Context, e *env, d *sshdSetup) (run func(ctx context.Context) (sample, error), err error)

// fanoutVsPeer: gotask on 50 hosts against a peer on the same 50
// aliases of the same sshd.
func fanoutVsPeer(name string, ratioTarget float64, target string, p peer) benchmark {
	var d *sshdSetup
	var run func(context.Context) (sample, error)
	return benchmark{
		name:        name,
		target:      target,
		ratioTarget: ratioTarget,
		runs:        5,
		hosts:       peerHosts,
		setup: func(ctx context.Context, e *env) (err error) {
			// A missing peer skips the row before any sshd starts.
			if _, err = p(ctx, e, nil); err != nil {
				return err
			}
			if err = fanoutSetup(ctx, e, &d); err != nil {
				return err
			}
			run, err = p(ctx, e, d)
			return err
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return gotaskOn(ctx, e, d, peerHosts)
		},
		baseline: func(ctx context.Context, e *env) (sample, error) { return run(ctx) },
	}
}

// sshPeer is 50 ssh processes started at once, each with its own
// connection and sshOpts.
func sshPeer(sshOpts ...string) peer {
	return func(_ context.Context, e *env, d *sshdSetup) (func(context.Context) (sample, error), error) {
		if d == nil {
			return nil, nil // startSSHD skips the row without ssh
		}
		return func(ctx context.Context) (sample, error) {
			cmds := make([]*exec.Cmd, peerHosts)
			for i := range cmds {
				args := append([]string{"-F", d.config, "-o", "ControlMaster=no"}, sshOpts...)
				cmds[i] = e.command(ctx, "ssh", append(args, "h"+strconv.Itoa(i+1), "true")...)
			}
			return timeParallel(cmds)
		}, nil
	}
}

// commandPeer is a peer that runs as one command, argv.
func commandPeer(e *env, argv ...string) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) { return e.time(ctx, argv[0], argv[1:]...) }
}

// psshPeer is pssh's parallel-ssh with d's ssh_config, on all hosts at once.
func psshPeer(_ context.Context, e *env, d *sshdSetup) (func(context.Context) (sample, error), error) {
	bin, err := exec.LookPath("parallel-ssh") // Debian's name
	if err != nil {
		if bin, err = exec.LookPath("pssh"); err != nil {
			return nil, skipf("install pssh (Debian: apt-get install pssh)")
		}
	}
	if d == nil {
		return nil, nil
	}
	list := e.path("pssh-hosts")
	if err := os.WriteFile(list, []byte(strings.ReplaceAll(aliases(peerHosts), ",", "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	return commandPeer(e, bin, "-p", strconv.Itoa(peerHosts), "-h", list, "-X", "-F", "-X", d.config, "true"), nil
}

//go:embed fabric_group.py
var fabricGroupPy []byte

// fabricPeer is fabric_group.py, Fabric's ThreadingGroup with d's
// ssh_config and known_hosts, run by the first python3 that imports
// Fabric (a pyenv's python3 on PATH may not see Debian's python3-fabric).
func fabricPeer(ctx context.Context, e *env, d *sshdSetup) (func(context.Context) (sample, error), error) {
	python := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if e.command(ctx, p, "-c", "import fabric").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		return nil, skipf("install Fabric (Debian: apt-get install python3-fabric; or pip install fabric)")
	}
	if d == nil {
		return nil, nil
	}
	script := e.path("fabric_group.py")
	if err := os.WriteFile(script, fabricGroupPy, 0o644); err != nil {
		return nil, err
	}
	argv := []string{python, script, d.config, d.path("known_hosts"), "true"}
	return commandPeer(e, append(argv, strings.Split(aliases(peerHosts), ",")...)...), nil
}

// fanoutVsOneHost: gotask on 50 hosts against gotask on one, to show
// what the handshakes in flight at once cost over a single one.
func fanoutVsOneHost() benchmark {
	var d *sshdSetup
	return benchmark{
		name:        "fanout/50-hosts-vs-1-host",
		target:      "≤ 12x gotask on 1 host (the 50 handshakes overlap; one after another is ≈ 50x)",
		ratioTarget: 12,
		runs:        5,
		setup: func(ctx context.Context, e *env) error {
			if err := fanoutSetup(ctx, e, &d); err != nil {
				return err
			}
			// Once, for scale: the same 50 hosts one after another.
			smp, err := e.time(ctx, e.gotask, "-f", "tasks.toml", "-F", d.config, "-P", "1", "-H", aliases(50), "one")
			if err != nil {
				return err
			}
			e.notef("50 hosts one after another (-P 1), once: %s", formatDuration(smp.wall))
			return nil
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return gotaskOn(ctx, e, d, 50)
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			return gotaskOn(ctx, e, d, 1)
		},
	}
}

// fanoutRSS: gotask's peak memory on 200 hosts at once.
func fanoutRSS() benchmark {
	var d *sshdSetup
	return benchmark{
		name:        "fanout/200-hosts-peak-RSS",
		target:      "peak RSS ≤ 1x 100 MB; baseline: gotask on 1 host, for scale",
		ratioTarget: 1,
		rssLimit:    100_000_000,
		runs:        3,
		setup:       func(ctx context.Context, e *env) error { return fanoutSetup(ctx, e, &d) },
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return gotaskOn(ctx, e, d, 200)
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			return gotaskOn(ctx, e, d, 1)
		},
	}
}

// timeParallel starts cmds at once and measures until the last has
// ended; any failure is an error. The peak RSS is the largest of them.
func timeParallel(cmds []*exec.Cmd) (sample, error) {
	start := time.Now()
	var errs []error
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c, err))
		}
	}
	var smp sample
	for _, c := range cmds {
		if c.Process == nil {
			continue
		}
		// Wait returns at once for the ones that ended already.
		if err := c.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w: %s", c, err, c.Stderr))
			continue
		}
		if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
			smp.maxRSS = max(smp.maxRSS, rssBytes(ru))
			smp.cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	smp.wall = time.Since(start)
	smp.selfRSS = selfPeakRSS()
	return smp, errors.Join(errs...)
}

// groupedRSS: gotask's peak memory when two hosts print 200 MB each
// with --output grouped, which holds each host's output until the host
// is done (in a temporary file past 1 MiB). The baseline is the same
// with live prefixed output, which holds nothing, for scale.
func groupedRSS() benchmark {
	var d *sshdSetup
	run := func(ctx context.Context, e *env, output string) (sample, error) {
		return e.time(ctx, e.gotask, "-f", "grouped.toml", "-F", d.config, "--output", output, "-H", aliases(2), "big")
	}
	return benchmark{
		name:        "fanout/grouped-2x200MB-peak-RSS",
		target:      "peak RSS ≤ 1x 150 MB; baseline: the same with live prefixed output, for scale",
		ratioTarget: 1,
		rssLimit:    150_000_000,
		runs:        3,
		setup: func(ctx context.Context, e *env) (err error) {
			if d, err = e.startSSHD(ctx); err != nil {
				return err
			}
			line := strings.Repeat("x", 99)
			doc := fmt.Sprintf("[tasks.big]\nrun = \"yes %s | head -c 200000000\"\n", line)
			return os.WriteFile(filepath.Join(e.dir, "grouped.toml"), []byte(doc), 0o644)
		},
		candidate: func(ctx context.Context, e *env) (sample, error) { return run(ctx, e, "grouped") },
		baseline:  func(ctx context.Context, e *env) (sample, error) { return run(ctx, e, "prefixed") },
	}
}
