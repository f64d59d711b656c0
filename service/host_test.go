package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// shellHost is a Host whose processes are real sh processes of this
// machine, each in a process group of its own, as an SSH host's are
// there; it stands for a host only in what the supervisor sees of one
// (the SSH side is tested in runner/remote and cli).
type shellHost struct {
	name string
	dir  string
}

func (h shellHost) Start(_ context.Context, c Command, stdout, stderr io.Writer) (HostProcess, error) {
	cmd := exec.Command("/bin/sh", "-c", c.Line)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = c.Dir, append(c.Env, "HOST="+h.name), stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &shellProcess{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (h shellHost) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

type shellProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

func (p *shellProcess) Pid() int                  { return p.cmd.Process.Pid }
func (p *shellProcess) Signal(sig syscall.Signal) { _ = syscall.Kill(-p.cmd.Process.Pid, sig) }
func (p *shellProcess) Done() <-chan struct{}     { return p.done }
func (p *shellProcess) Close()                    { p.once.Do(func() { p.Signal(syscall.SIGKILL) }) }
func (p *shellProcess) Exit() (string, bool) {
	st := p.cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + signalName(ws.Signal()), false
	}
	return fmt.Sprintf("exit %d", st.ExitCode()), st.Success()
}

// TestRestartAcrossHostsKeepsOneReady: a service on two hosts is
// restarted one instance at a time, across hosts: at no change of state
// after both were ready is neither ready, and each ends with a new
// process. Instances are labelled with their host, and the host reaches
// HostCommand and Status.
func TestRestartAcrossHostsKeepsOneReady(t *testing.T) {
	dir := t.TempDir()
	hosts := map[string]shellHost{"a": {"a", dir}, "b": {"b", dir}}
	s, _ := start(t, Config{
		Services: []Spec{{
			Name:  "api",
			Hosts: []string{"a", "b"},
			HostCommand: func(_ context.Context, host string, replica int) (Command, error) {
				// Ready a moment after it starts: the ready check runs
				// through the host too (sh there). The last process's
				// mark goes before this one starts.
				if err := os.Remove(filepath.Join(dir, "ready."+host)); err != nil && !os.IsNotExist(err) {
					return Command{}, err
				}
				return Command{
					Line:  fmt.Sprintf("echo $$ > pid.%s; sleep 0.2; touch ready.%s; exec sleep 300", host, host),
					Dir:   dir,
					Env:   os.Environ(),
					Ready: ReadyCheck{Sh: "test -f ready.$HOST"},
				}, nil
			},
		}},
		Connect: func(_ context.Context, host string) (Host, error) {
			h, ok := hosts[host]
			if !ok {
				return nil, fmt.Errorf("no host %s", host)
			}
			return h, nil
		},
	})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := s.Status()
	for i, want := range []string{"a api", "b api"} {
		if before[i].Label != want || before[i].Host != want[:1] || before[i].State != Ready {
			t.Fatalf("status %d = %+v, want %s ready", i, before[i], want)
		}
	}
	var (
		mu      sync.Mutex
		noneAt  []string
		watched = make(chan struct{})
	)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		defer close(watched)
		_ = s.wait(ctx, func() (bool, error) {
			ready, states := 0, []string{}
			for _, in := range s.services["api"].instances {
				if in.state == Ready {
					ready++
				}
				states = append(states, in.label+"="+string(in.state))
			}
			if ready == 0 {
				mu.Lock()
				noneAt = append(noneAt, strings.Join(states, " "))
				mu.Unlock()
			}
			return false, nil
		})
	}()
	if err := s.Restart(t.Context(), "api"); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-watched
	after := s.Status()
	for i := range after {
		if after[i].Pid == before[i].Pid || after[i].State != Ready || after[i].Restarts != 1 {
			t.Errorf("%s: pid %d -> %d, state %s, restarts %d; want a new ready process", after[i].Label, before[i].Pid, after[i].Pid, after[i].State, after[i].Restarts)
		}
	}
	if len(noneAt) > 0 {
		t.Errorf("no instance was ready during the rolling restart: %v", noneAt)
	}
	if _, err := os.Stat(filepath.Join(dir, "pid.a")); err != nil {
		t.Errorf("the process did not run where its host put it: %v", err)
	}
}

// TestRestartWaitsForItsHost: when a crashed instance's host cannot be
// reached (rebooting, say), the restart is tried again with the backoff,
// as a crash, and the instance comes back once the host does; a host
// that stays away fails the instance after max_restarts. It used to fail
// at the first attempt.
func TestRestartWaitsForItsHost(t *testing.T) {
	for _, back := range []bool{true, false} {
		t.Run(fmt.Sprint("host comes back: ", back), func(t *testing.T) {
			dir := t.TempDir()
			down := filepath.Join(dir, "down")
			s, log := start(t, Config{
				Services: []Spec{{
					Name:  "api",
					Hosts: []string{"a"},
					HostCommand: func(_ context.Context, host string, replica int) (Command, error) {
						return Command{Line: "echo $$ > pid.tmp && mv pid.tmp pid; exec sleep 300", Dir: dir, Env: os.Environ()}, nil
					},
					Restart: Always, Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxRestarts: 4,
				}},
				Connect: func(_ context.Context, host string) (Host, error) {
					if _, err := os.Stat(down); err == nil {
						return nil, errors.New("connection refused")
					}
					return shellHost{host, dir}, nil
				},
			})
			if err := s.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			first := s.Status()[0].Pid
			if err := os.WriteFile(down, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Kill(-first, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			until(t, "a failed restart", func() bool {
				return strings.Contains(log.String(), "cannot start: host a: connection refused; restarting in")
			})
			if !back {
				until(t, "the instance to fail", func() bool { return s.Status()[0].State == Failed })
				if st := s.Status()[0]; !strings.Contains(st.Error, "gave up after 4 restarts") {
					t.Errorf("error %q, want max_restarts named", st.Error)
				}
				return
			}
			if err := os.Remove(down); err != nil {
				t.Fatal(err)
			}
			until(t, "a new process", func() bool {
				st := s.Status()[0]
				return st.State == Ready && st.Pid != 0 && st.Pid != first
			})
		})
	}
}
