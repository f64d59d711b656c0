package remote

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// proxyKillGrace is how long a ProxyCommand has, after the hangup that
// ends its connection, before it is killed.
const proxyKillGrace = 2 * time.Second

// proxyCommandLine expands the %h %n %p %r and %% tokens of a
// ProxyCommand, as ssh does. ssh pastes the values in raw and hands the
// line to the shell; gotask refuses a value that the shell would read as
// anything but one plain word, so that a host name from a host list or
// ssh_config can never become code.
func proxyCommandLine(command string, tok tokens) (string, error) {
	var b strings.Builder
	for i := 0; i < len(command); i++ {
		if command[i] != '%' || i+1 == len(command) {
			b.WriteByte(command[i])
			continue
		}
		i++
		var v, what string
		switch command[i] {
		case '%':
			b.WriteByte('%')
			continue
		case 'h':
			v, what = tok.host, "host name (%h)"
		case 'n':
			v, what = tok.alias, "host alias (%n)"
		case 'p':
			v, what = strconv.Itoa(tok.port), "port (%p)"
		case 'r':
			v, what = tok.user, "user (%r)"
		default:
			return "", fmt.Errorf("unknown token %%%c; ProxyCommand takes %%h %%n %%p %%r and %%%%", command[i])
		}
		if bad := strings.IndexFunc(v, notShellWord); v == "" || bad >= 0 {
			return "", fmt.Errorf("%s %q is not safe to hand to the shell: only letters, digits and . _ - : @ + are allowed there", what, v)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// notShellWord reports a rune a POSIX shell might read as more than a
// plain character of a word.
func notShellWord(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	case strings.ContainsRune("._-:@+", r):
		return false
	}
	return true
}

// proxyConn is a connection made of a ProxyCommand's stdin and stdout:
// what is written goes to its stdin, its stdout is what is read. Closing
// it hangs the command's process group up, and kills it if it lingers.
type proxyConn struct {
	cmd     *exec.Cmd
	r, w    *os.File // our ends: the command's stdout and stdin
	stderr  *tailWriter
	command string
	addr    string        // host:port the command reaches, for known_hosts
	exited  chan struct{} // closed once the command has been waited for
	once    sync.Once
	closed  atomic.Bool // Close hung it up
}

var _ net.Conn = (*proxyConn)(nil)

// startProxy runs command with sh -c. Its stderr goes to stderr (if not
// nil) and its last lines are kept for error messages.
// addr is the host:port it reaches: the connection's RemoteAddr, which
// known_hosts checks.
func startProxy(command, addr string, stderr io.Writer) (*proxyConn, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	tail := &tailWriter{max: 2048}
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Stdin, cmd.Stdout = inR, outW
	cmd.Stderr = tail
	if stderr != nil {
		cmd.Stderr = io.MultiWriter(tail, stderr)
	}
	cmd.WaitDelay = proxyKillGrace
	setProcessGroup(cmd)
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("starting ProxyCommand %q: %w", command, err)
	}
	p := &proxyConn{cmd: cmd, r: outR, w: inW, stderr: tail, command: command, addr: addr, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Read reads what the command printed.
func (p *proxyConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// Write writes to the command's stdin.
func (p *proxyConn) Write(b []byte) (int, error) { return p.w.Write(b) }

// Close ends the connection: it closes the pipes and hangs up the
// command's process group, killing it after proxyKillGrace.
func (p *proxyConn) Close() error {
	p.once.Do(func() {
		p.closed.Store(true)
		p.w.Close()
		p.r.Close()
		select {
		case <-p.exited:
			return // reaped: its group may be gone, its id reused
		default:
		}
		signalGroup(p.cmd, false)
		go func() {
			t := time.NewTimer(proxyKillGrace)
			defer t.Stop()
			select {
			case <-p.exited:
			case <-t.C:
				signalGroup(p.cmd, true)
			}
		}()
	})
	return nil
}

// explain says how the command ended and what it last wrote to stderr,
// for an error about a connection through it that failed.
func (p *proxyConn) explain() string {
	var s string
	s = fmt.Sprintf("through ProxyCommand %q", p.command)
	select {
	case <-p.exited:
		if st := p.cmd.ProcessState; st.Exited() || !p.closed.Load() {
			s = fmt.Sprintf("ProxyCommand %q exited (%v)", p.command, st)
		}
	case <-time.After(100 * time.Millisecond):
	}
	if t := strings.TrimSpace(p.stderr.String()); t != "" {
		s += "; it said: " + t
	}
	return s
}

type proxyAddr string

func (a proxyAddr) Network() string { return "proxycommand" }
func (a proxyAddr) String() string  { return string(a) }

// LocalAddr names the command.
func (p *proxyConn) LocalAddr() net.Addr { return proxyAddr(p.command) }

// RemoteAddr is the host:port the command reaches, so that known_hosts
// checks the host's name, as ssh does through a ProxyCommand (no IP
// address is known).
func (p *proxyConn) RemoteAddr() net.Addr { return proxyAddr(p.addr) }

// SetDeadline sets both pipes' deadlines.
func (p *proxyConn) SetDeadline(t time.Time) error {
	return errors.Join(p.r.SetReadDeadline(t), p.w.SetWriteDeadline(t))
}

// SetReadDeadline sets the deadline of reads from the command's stdout.
func (p *proxyConn) SetReadDeadline(t time.Time) error { return p.r.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of writes to the command's stdin.
func (p *proxyConn) SetWriteDeadline(t time.Time) error { return p.w.SetWriteDeadline(t) }

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
