package service

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"syscall"
	"time"
)

// checkReady polls cmd's ready check until it passes, then marks in
// ready. It gives up when ctx ends (the process ended or is stopping).
func (s *Supervisor) checkReady(ctx context.Context, in *instance, p *process, cmd Command) {
	every := s.cfg.ReadyInterval
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	check := readyCheck(cmd, every)
	if p.conn != nil {
		check = hostReadyCheck(p.conn, cmd, every)
	}
	if check == nil {
		return // the loop made it ready
	}
	for {
		if check(ctx) == nil {
			break
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-p.exited:
			t.Stop()
			return
		case <-t.C:
		}
	}
	ok := false
	s.mu.Lock()
	if in.pid == p.pid && in.state == Running && ctx.Err() == nil {
		in.state, in.wasReady, ok = Ready, true, true
		s.notify()
	}
	s.mu.Unlock()
	if ok {
		s.logf(in, "ready")
	}
}

// readyCheck returns the check of cmd.Ready, or nil when it has none.
func readyCheck(cmd Command, timeout time.Duration) func(context.Context) error {
	timeout = max(timeout, time.Second)
	r := cmd.Ready
	switch {
	case r.HTTP != "", r.TCP != "":
		d := net.Dialer{Timeout: timeout}
		return dialCheck(r, timeout, d.DialContext)
	case r.Sh != "":
		return func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 10*timeout)
			defer cancel()
			c := exec.CommandContext(ctx, "/bin/sh", "-c", r.Sh)
			c.Dir, c.Env = cmd.Dir, cmd.Env
			if c.Env == nil {
				c.Env = []string{}
			}
			c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
			c.WaitDelay = time.Second
			return c.Run()
		}
	}
	return nil
}

// dialCheck returns the check of r.HTTP or r.TCP, connecting by dial.
func dialCheck(r ReadyCheck, timeout time.Duration, dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(context.Context) error {
	if r.TCP != "" {
		return func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			c, err := dial(ctx, "tcp", r.TCP)
			if err != nil {
				return err
			}
			return c.Close()
		}
	}
	client := &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil, DialContext: dial},
	}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.HTTP, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return fmt.Errorf("%s answered %s", r.HTTP, resp.Status)
		}
		return nil
	}
}

// checkLimits recycles in's process p (through kick) once it holds more
// memory than RecycleRSS or has run longer than RecycleAfter.
func (s *Supervisor) checkLimits(ctx context.Context, in *instance, p *process, kick chan<- string) {
	spec := in.s.spec
	if spec.RecycleRSS == 0 && spec.RecycleAfter == 0 {
		return
	}
	every := s.cfg.LimitInterval
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.exited:
			return
		case <-t.C:
		}
		why := ""
		if spec.RecycleAfter > 0 && time.Since(p.start) >= spec.RecycleAfter {
			why = fmt.Sprintf("recycling: up %s, restart_when.after is %s", time.Since(p.start).Round(time.Second), spec.RecycleAfter)
		} else if spec.RecycleRSS > 0 {
			// Instances started together are checked within moments of
			// each other: one reading of /proc serves them all.
			if rss := p.rss(&s.groups, every/2); rss > spec.RecycleRSS {
				why = fmt.Sprintf("recycling: rss %s over restart_when.rss %s", FormatBytes(rss), FormatBytes(spec.RecycleRSS))
			}
		}
		if why != "" {
			select {
			case kick <- why:
			default:
			}
			return
		}
	}
}

// FormatBytes writes n as people read memory sizes: 512KB, 12.5MB, 2GB
// (powers of 1024, as restart_when.rss takes them).
func FormatBytes(n uint64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == float64(int64(v)) || i == 0 {
		return fmt.Sprintf("%d%s", int64(v), units[i])
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}
