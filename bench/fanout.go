package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fanoutBenchmarks measures one command on many hosts at once: 50 and 200
// ssh_config aliases of one real sshd on a loopback port, so that every
// host entry costs a connection and a handshake of its own.
func fanoutBenchmarks() []benchmark {
	return []benchmark{
		fanoutVsSSH("fanout/50-hosts-vs-ssh", 0.33, "≤ 0.33x 50 `ssh` started at once (at least 3x faster)"),
		// A diagnostic, not a DESIGN.md target: OpenSSH 9.x picks
		// sntrup761x25519 by default, whose key generation costs each
		// ssh tens of milliseconds of CPU; gotask (x/crypto) picks
		// curve25519-sha256 and aes128-gcm. This row gives ssh those
		// too, so that only one process against 50 differs.
		fanoutVsSSH("fanout/50-hosts-vs-ssh-same-kex", 1, "≤ 1x 50 `ssh` started at once with gotask's curve25519-sha256 and aes128-gcm (diagnostic)",
			"-o", "KexAlgorithms=curve25519-sha256", "-o", "Ciphers=aes128-gcm@openssh.com"),
		fanoutVsOneHost(),
		fanoutRSS(),
		groupedRSS(),
		fanoutKnownHostsCPU(),
		fanoutKnownHostsRSS(),
		fanoutPersist(),
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

// gotaskWith runs task one on hosts h1..hn, all at once, with the
// ssh_config config, and notes gotask's own CPU time per host (user +
// system; sshd's is not in it).
func gotaskWith(ctx context.Context, e *env, config, what string, n int) (sample, error) {
	smp, err := e.time(ctx, e.gotask, "-f", "tasks.toml", "-F", config, "-P", strconv.Itoa(n), "-H", aliases(n), "one")
	if err == nil && smp.cpu > 0 {
		e.notef("%d hosts, %s: gotask CPU %s, %.2f ms a host, peak RSS %.1f MB",
			n, what, formatDuration(smp.cpu), float64(smp.cpu)/float64(n)/1e6, float64(smp.maxRSS)/1e6)
	}
	return smp, err
}

// fanoutKnownHostsCPU: 200 hosts with a 5,000-line known_hosts against
// the same with a 1-line one: the file is parsed once per run, not per
// host, so the CPU ratio stays near 1.
func fanoutKnownHostsCPU() benchmark {
	var d *sshdSetup
	var big string
	return benchmark{
		name:        "fanout/200-hosts-5000-line-known-hosts",
		target:      "≤ 1.2x the same 200 hosts with a 1-line known_hosts (see the CPU ratio)",
		ratioTarget: 1.2,
		runs:        3,
		setup: func(ctx context.Context, e *env) (err error) {
			if err = fanoutSetup(ctx, e, &d); err != nil {
				return err
			}
			big, err = bigKnownHosts(d, 5000)
			return err
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return gotaskWith(ctx, e, big, "5,000-line known_hosts", 200)
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			return gotaskWith(ctx, e, d.config, "1-line known_hosts", 200)
		},
	}
}

// fanoutKnownHostsRSS: gotask's peak memory on 1,000 hosts at once
// (-P 1000) with a 5,000-line known_hosts; no host may be unreachable.
func fanoutKnownHostsRSS() benchmark {
	var d *sshdSetup
	var big string
	return benchmark{
		name:        "fanout/1000-hosts-5000-line-known-hosts-peak-RSS",
		target:      "peak RSS ≤ 1x 100 MB; baseline: 50 hosts, same known_hosts, for scale",
		ratioTarget: 1,
		rssLimit:    100_000_000,
		runs:        1,
		setup: func(ctx context.Context, e *env) (err error) {
			if err = fanoutSetup(ctx, e, &d); err != nil {
				return err
			}
			big, err = bigKnownHosts(d, 5000)
			return err
		},
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return gotaskWith(ctx, e, big, "5,000-line known_hosts", 1000)
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			return gotaskWith(ctx, e, big, "5,000-line known_hosts", 50)
		},
	}
}

// fanoutSetup starts the server and writes the task, one `true`.
func fanoutSetup(ctx context.Context, e *env, d **sshdSetup) (err error) {
	if *d, err = e.startSSHD(ctx); err != nil {
		return err
	}
	return e.writeTasks("[tasks.one]\nrun = \"true\"\n")
}

// gotaskOn runs task one on hosts h1..hn, all at once.
func gotaskOn(ctx context.Context, e *env, d *sshdSetup, n int) (sample, error) {
	return e.time(ctx, e.gotask, "-f", "tasks.toml", "-F", d.config, "-P", strconv.Itoa(n), "-H", aliases(n), "one")
}

// fanoutVsSSH: gotask on 50 hosts against 50 ssh processes started at
// once, each with its own connection and sshOpts.
func fanoutVsSSH(name string, ratioTarget float64, target string, sshOpts ...string) benchmark {
	const n = 50
	var d *sshdSetup
	return benchmark{
		name:        name,
		target:      target,
		ratioTarget: ratioTarget,
		runs:        5,
		setup:       func(ctx context.Context, e *env) error { return fanoutSetup(ctx, e, &d) },
		candidate: func(ctx context.Context, e *env) (sample, error) {
			return gotaskOn(ctx, e, d, n)
		},
		baseline: func(ctx context.Context, e *env) (sample, error) {
			cmds := make([]*exec.Cmd, n)
			for i := range cmds {
				args := append([]string{"-F", d.config, "-o", "ControlMaster=no"}, sshOpts...)
				cmds[i] = e.command(ctx, "ssh", append(args, "h"+strconv.Itoa(i+1), "true")...)
			}
			return timeParallel(cmds)
		},
	}
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

// fanoutPersist: the second run of one command on 50 hosts with
// --persist, through the connections the mux kept, against the first,
// which starts the mux and makes the 50 connections. The mux lives in a
// directory of the benchmark's own (XDG_RUNTIME_DIR), never the user's.
// Only wall times compare: the mux's CPU is not the timed process's.
func fanoutPersist() benchmark {
	const n = 50
	var d *sshdSetup
	var xdg string
	persisted := func(ctx context.Context, e *env, args ...string) *exec.Cmd {
		c := e.command(ctx, e.gotask, args...)
		c.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+xdg)
		return c
	}
	run := func(ctx context.Context, e *env) (sample, error) {
		return timeCmd(persisted(ctx, e, "-f", "tasks.toml", "-F", d.config, "--persist", "10m", "-P", strconv.Itoa(n), "-H", aliases(n), "one"))
	}
	stop := func(ctx context.Context, e *env) error {
		c := persisted(ctx, e, "--persist-stop")
		if err := c.Run(); err != nil {
			return fmt.Errorf("gotask --persist-stop: %w: %s", err, c.Stderr)
		}
		return nil
	}
	return benchmark{
		name:        "fanout/50-hosts-persist-second-run-vs-first",
		target:      "≤ 0.2x the first run, which starts the mux and connects (at least 5x faster)",
		ratioTarget: 0.2,
		runs:        5,
		setup: func(ctx context.Context, e *env) (err error) {
			if err = fanoutSetup(ctx, e, &d); err != nil {
				return err
			}
			// A short path: a unix socket's must fit in 108 bytes.
			if xdg, err = os.MkdirTemp("", "gotask-bench-"); err != nil {
				return err
			}
			e.cleanup(func() {
				_ = stop(context.Background(), e)
				os.RemoveAll(xdg)
			})
			// Warm: every second run finds the mux and its connections.
			_, err = run(ctx, e)
			return err
		},
		candidate: run,
		baseline: func(ctx context.Context, e *env) (sample, error) {
			// Untimed: the first run of the next sample starts from nothing.
			if err := stop(ctx, e); err != nil {
				return sample{}, err
			}
			return run(ctx, e) // and leaves the mux warm for the next candidate
		},
	}
}
