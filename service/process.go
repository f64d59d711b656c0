package service

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// process is one run of an instance's command: the shell and everything
// it starts, in one process group and, where gotask can create one, one
// cgroup. The group (and cgroup) outlive the shell: whatever is left in
// them when it ends is killed (cleanup), so that a restart never leaves
// the old process's children running.
type process struct {
	cmd    *exec.Cmd
	host   HostProcess // instead of cmd, for a process on a Host
	conn   Host        // the Host it runs on, with host
	pid    int         // also the process group id
	cg     *cgroup
	start  time.Time
	exited chan struct{} // closed when the shell has been reaped
	state  *os.ProcessState
	err    error // from Wait, when it failed otherwise than by exit status

	copying sync.WaitGroup // the output copiers
	pipes   []*os.File     // their read ends
}

// outputDrain bounds how long the output of a process that is gone is
// still read: a process that escaped the group (setsid, where no cgroup
// could be made) may hold the pipe open forever.
const outputDrain = 2 * time.Second

// startProcess starts c in a new process group (and cgroup cg, when not
// nil), copying its output to stdout and stderr.
func startProcess(c Command, nice int, cg *cgroup, stdout, stderr io.Writer) (*process, error) {
	argv := []string{"/bin/sh", "-c", c.Line}
	if nice != 0 {
		argv = append([]string{"nice", "-n", strconv.Itoa(nice)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	p := &process{cmd: cmd, cg: cg, exited: make(chan struct{})}
	var writers []*os.File
	for range 2 {
		r, pw, err := os.Pipe()
		if err != nil {
			p.closePipes(writers)
			return nil, err
		}
		p.pipes, writers = append(p.pipes, r), append(writers, pw)
	}
	cmd.Stdout, cmd.Stderr = writers[0], writers[1]
	cmd.SysProcAttr = sysProcAttr(cg)
	err := cmd.Start()
	p.closePipes(writers)
	if err != nil {
		p.closePipes(p.pipes)
		return nil, err
	}
	p.pid, p.start = cmd.Process.Pid, time.Now()
	for i, w := range []io.Writer{stdout, stderr} {
		if w == nil {
			w = io.Discard
		}
		p.copying.Add(1)
		go func(r *os.File) {
			defer p.copying.Done()
			_, _ = io.Copy(w, r)
		}(p.pipes[i])
	}
	go func() {
		err := cmd.Wait()
		p.state = cmd.ProcessState
		if p.state == nil {
			p.err = err
		}
		close(p.exited)
	}()
	return p, nil
}

func (p *process) closePipes(files []*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

// signal sends sig to every process of p: its group, and the members of
// its cgroup that left the group (setsid).
func (p *process) signal(sig syscall.Signal) {
	if p.host != nil {
		p.host.Signal(sig)
		return
	}
	_ = syscall.Kill(-p.pid, sig)
	if p.cg != nil {
		p.cg.signal(sig)
	}
}

// terminate stops p: sig to all of it, then SIGKILL after grace, or as
// soon as hurry is closed, if the shell has not ended by then. It
// returns once the shell is reaped.
func (p *process) terminate(sig syscall.Signal, grace time.Duration, hurry <-chan struct{}) {
	p.signal(sig)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
		return
	case <-t.C:
	case <-hurry:
	}
	p.signal(syscall.SIGKILL)
	<-p.exited
}

// cleanup kills what is left of p once its shell has ended (children
// still in its group or cgroup), waits for its output to be read, and
// removes its cgroup.
func (p *process) cleanup() {
	<-p.exited
	if p.host != nil {
		p.host.Close()
		return
	}
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	if p.cg != nil {
		p.cg.kill()
	}
	done := make(chan struct{})
	go func() { p.copying.Wait(); close(done) }()
	t := time.NewTimer(outputDrain)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.closePipes(p.pipes) // unblocks the copiers
		<-done
	}
	p.closePipes(p.pipes)
	if p.cg != nil {
		p.cg.remove()
	}
}

// exitString says how p ended: "exit 1", "signal KILL".
func (p *process) exitString() string {
	if p.host != nil {
		how, _ := p.host.Exit()
		return how
	}
	if p.state == nil {
		if p.err != nil {
			return p.err.Error()
		}
		return ""
	}
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + signalName(ws.Signal())
	}
	return fmt.Sprintf("exit %d", p.state.ExitCode())
}

// success says p exited 0.
func (p *process) success() bool {
	if p.host != nil {
		_, ok := p.host.Exit()
		return ok
	}
	return p.state != nil && p.state.Success()
}

// rss is the resident memory of all of p's processes together: its
// cgroup's, or else its process group's from scan, a reading of /proc
// at most maxAge old.
func (p *process) rss(scan *groupScan, maxAge time.Duration) uint64 {
	if p.host != nil {
		return 0 // not this machine's: restart_when.rss is refused on hosts
	}
	if p.cg != nil {
		if total, err := p.cg.rss(); err == nil {
			return total
		}
	}
	if total, ok := scan.rss(p.pid, maxAge); ok {
		return total
	}
	rss, _ := procRSS(p.pid) // no /proc, or a group that began after the scan
	return rss
}

// groupScan shares one reading of /proc among the instances whose
// restart_when.rss is checked at about the same time. Without a cgroup,
// an instance's processes are found by reading every /proc/PID/stat;
// 20 instances each doing that every second cost the supervisor 6% of
// a CPU, and one reading for all of them a tenth of that. Its zero value
// is ready to use.
type groupScan struct {
	mu     sync.Mutex
	at     time.Time
	groups map[int]uint64 // pgid -> RSS of its processes, as groupsRSS
}

// rss returns the RSS of process group pgid from a reading at most
// maxAge old, reading /proc again when the last is older; false when
// the reading has no such group.
func (g *groupScan) rss(pgid int, maxAge time.Duration) (uint64, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.at.IsZero() || time.Since(g.at) > maxAge {
		g.groups, g.at = groupsRSS(), time.Now()
	}
	total, ok := g.groups[pgid]
	return total, ok
}

// signalName is the name of sig without "SIG", as kill -l prints it.
func signalName(sig syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGHUP: "HUP", syscall.SIGINT: "INT", syscall.SIGQUIT: "QUIT",
		syscall.SIGKILL: "KILL", syscall.SIGTERM: "TERM", syscall.SIGUSR1: "USR1",
		syscall.SIGUSR2: "USR2", syscall.SIGABRT: "ABRT", syscall.SIGSEGV: "SEGV",
		syscall.SIGPIPE: "PIPE", syscall.SIGALRM: "ALRM",
	}
	if n, ok := names[sig]; ok {
		return n
	}
	return strconv.Itoa(int(sig))
}

// ParseSignal returns the signal named name: "TERM", "SIGTERM", "INT",
// "HUP", "QUIT", "KILL", "USR1", "USR2".
func ParseSignal(name string) (syscall.Signal, error) {
	switch name {
	case "TERM", "SIGTERM":
		return syscall.SIGTERM, nil
	case "INT", "SIGINT":
		return syscall.SIGINT, nil
	case "HUP", "SIGHUP":
		return syscall.SIGHUP, nil
	case "QUIT", "SIGQUIT":
		return syscall.SIGQUIT, nil
	case "KILL", "SIGKILL":
		return syscall.SIGKILL, nil
	case "USR1", "SIGUSR1":
		return syscall.SIGUSR1, nil
	case "USR2", "SIGUSR2":
		return syscall.SIGUSR2, nil
	}
	return 0, fmt.Errorf("unknown signal %q: use TERM, INT, HUP, QUIT, KILL, USR1 or USR2", name)
}

// SignalName returns the name of sig without "SIG" ("TERM", "KILL"), as
// kill -s takes it.
func SignalName(sig syscall.Signal) string { return signalName(sig) }
