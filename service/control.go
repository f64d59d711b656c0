package service

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Controller is what the control socket serves: the control methods of
// a *Supervisor, which meets it.
type Controller interface {
	Status() []Status
	Start(ctx context.Context, names ...string) error
	Stop(ctx context.Context, names ...string) error
	Restart(ctx context.Context, names ...string) error
}

// The operations of the control protocol. A client connects, writes one
// request as a line of JSON, {"op": "restart", "services": ["api"]}, and
// reads lines of JSON until one says done (or has an error): progress
// lines while a rolling restart goes on, then the statuses of every
// instance.
const (
	OpStatus  = "status"  // statuses only
	OpStart   = "start"   // Controller.Start, then the statuses
	OpStop    = "stop"    // Controller.Stop
	OpRestart = "restart" // Controller.Restart, with progress
	OpDown    = "down"    // stop everything, then end the supervisor
)

// request is what a client asks, on one line.
type request struct {
	Op       string   `json:"op"`
	Services []string `json:"services,omitempty"`
}

// message is one line of the server's answer.
type message struct {
	Progress *Progress `json:"progress,omitempty"`
	Done     bool      `json:"done,omitempty"`
	Error    string    `json:"error,omitempty"`
	Statuses []Status  `json:"statuses,omitempty"`
	Pid      int       `json:"pid,omitempty"` // the supervisor's
}

// Progress is a step of a rolling restart: an instance whose process
// was replaced, and where the new one is.
type Progress struct {
	Service string
	Replica int
	Alone   bool // the service's only replica: named as the service alone
	Host    string
	OldPid  int // the process it replaced, 0 for none
	Pid     int
	State   State
}

// String says it as `gotask restart` prints it, naming the instance as
// its output's prefix does: "api.1: pid 1234 replaced by 1240, ready",
// "worker: pid 1250 replaced by 1262, ready".
func (p Progress) String() string {
	name := fmt.Sprintf("%s.%d", p.Service, p.Replica)
	if p.Alone {
		name = p.Service
	}
	if p.Host != "" {
		name = p.Host + " " + name
	}
	if p.OldPid == 0 {
		return fmt.Sprintf("%s: started pid %d, %s", name, p.Pid, p.State)
	}
	return fmt.Sprintf("%s: pid %d replaced by %d, %s", name, p.OldPid, p.Pid, p.State)
}

// requestTimeout bounds how long a connected client may take to say
// what it wants.
const requestTimeout = 10 * time.Second

// progressEvery is how often a rolling restart's statuses are compared,
// to tell the client which instances were replaced.
const progressEvery = 50 * time.Millisecond

// Server answers the requests of the control socket with a Controller.
type Server struct {
	Controller Controller
	// Down is called once a "down" request has stopped every service: it
	// should make the supervisor's process end (cancel what runs it). The
	// client then waits for that process to exit. Nil: "down" stops the
	// services and the process carries on.
	Down func()
}

// Serve accepts connections on l and answers each until ctx ends, then
// closes l and returns once every answer in progress is done. Only
// processes of this user are served: on Linux, macOS and FreeBSD the
// peer's uid (SO_PEERCRED, LOCAL_PEERCRED) is checked on every
// connection, and others get an error and nothing else.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Out of descriptors, or a client gone before it was
			// accepted: wait a little and carry on, as net/http does.
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			return fmt.Errorf("control socket: %w", err)
		}
		wg.Go(func() {
			defer c.Close()
			s.serveConn(ctx, c)
		})
	}
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	enc := json.NewEncoder(c)
	send := func(m message) bool { return enc.Encode(m) == nil }
	if uc, ok := c.(*net.UnixConn); ok {
		uid, _, err := peerCred(uc)
		switch {
		case errors.Is(err, errors.ErrUnsupported):
		case err != nil:
			send(message{Error: fmt.Sprintf("cannot tell who connected: %v", err)})
			return
		case uid != os.Getuid():
			send(message{Error: fmt.Sprintf("refused: this supervisor serves only user %d, and you are user %d", os.Getuid(), uid)})
			return
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(requestTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, 1<<20)).ReadBytes('\n')
	if err != nil {
		send(message{Error: fmt.Sprintf("reading the request: %v", err)})
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		send(message{Error: fmt.Sprintf("bad request: %v", err)})
		return
	}
	var opErr error
	switch req.Op {
	case OpStatus:
	case OpStart:
		opErr = s.Controller.Start(ctx, req.Services...)
	case OpStop:
		opErr = s.Controller.Stop(ctx, req.Services...)
	case OpRestart:
		opErr = s.restart(ctx, req.Services, func(p Progress) bool { return send(message{Progress: &p}) })
	case OpDown:
		opErr = s.Controller.Stop(ctx)
	default:
		send(message{Error: fmt.Sprintf("unknown operation %q: the supervisor runs another version of gotask; stop it with its own gotask down", req.Op)})
		return
	}
	final := message{Done: true, Statuses: s.Controller.Status(), Pid: os.Getpid()}
	if opErr != nil {
		final.Error = opErr.Error()
	}
	send(final)
	if req.Op == OpDown && opErr == nil && s.Down != nil {
		s.Down()
	}
}

// instanceKey names an instance in a rolling restart's bookkeeping.
type instanceKey struct {
	service string
	replica int
	host    string
}

// restart runs a rolling restart of names (all when none) and reports
// each instance whose process was replaced, as it appears and again when
// it is ready, by comparing statuses as the restart goes on.
func (s *Server) restart(ctx context.Context, names []string, progress func(Progress) bool) error {
	chosen := func(st Status) bool { return len(names) == 0 || slices.Contains(names, st.Service) }
	before := map[instanceKey]int{}
	for _, st := range s.Controller.Status() {
		before[instanceKey{st.Service, st.Replica, st.Host}] = st.Pid
	}
	type seen struct {
		pid   int
		state State
	}
	told := map[instanceKey]seen{}
	report := func() {
		sts := s.Controller.Status()
		replicas := map[string]int{}
		for _, st := range sts {
			replicas[st.Service]++
		}
		for _, st := range sts {
			k := instanceKey{st.Service, st.Replica, st.Host}
			if !chosen(st) || st.Pid == 0 || st.Pid == before[k] {
				continue
			}
			if st.State != Running && st.State != Ready {
				continue
			}
			if told[k] == (seen{st.Pid, st.State}) {
				continue
			}
			told[k] = seen{st.Pid, st.State}
			progress(Progress{Service: st.Service, Replica: st.Replica, Alone: replicas[st.Service] == 1, Host: st.Host, OldPid: before[k], Pid: st.Pid, State: st.State})
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.Controller.Restart(ctx, names...) }()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			report()
			return err
		case <-tick.C:
			report()
		}
	}
}

// Client talks to the supervisor of a project through its control
// socket, one connection per request.
type Client struct {
	// Dir is the project's run directory (.gotask/run).
	Dir string
}

// Status returns the statuses of every instance.
func (c *Client) Status(ctx context.Context) ([]Status, error) {
	m, err := c.do(ctx, request{Op: OpStatus}, nil, false)
	return m.Statuses, err
}

// Start starts the named services (all when none) that are not running,
// and returns once they are ready, with the statuses of every instance.
func (c *Client) Start(ctx context.Context, names ...string) ([]Status, error) {
	m, err := c.do(ctx, request{Op: OpStart, Services: names}, nil, false)
	return m.Statuses, err
}

// Stop stops the named services (all when none).
func (c *Client) Stop(ctx context.Context, names ...string) ([]Status, error) {
	m, err := c.do(ctx, request{Op: OpStop, Services: names}, nil, false)
	return m.Statuses, err
}

// Restart restarts the named services (all when none), one instance at
// a time, calling progress (if not nil) as each is replaced and ready.
func (c *Client) Restart(ctx context.Context, progress func(Progress), names ...string) ([]Status, error) {
	m, err := c.do(ctx, request{Op: OpRestart, Services: names}, progress, false)
	return m.Statuses, err
}

// Down stops every service, then the supervisor, and returns once the
// supervisor's process has ended, with the last statuses it gave.
func (c *Client) Down(ctx context.Context) ([]Status, error) {
	m, err := c.do(ctx, request{Op: OpDown}, nil, true)
	return m.Statuses, err
}

// Ended returns a channel that is closed once the supervisor's process
// has ended (or ctx ends).
func (c *Client) Ended(ctx context.Context) (<-chan struct{}, error) {
	m, err := c.do(ctx, request{Op: OpStatus}, nil, false)
	if err != nil {
		return nil, err
	}
	h := watchProcess(m.Pid)
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer h.close()
		_ = h.wait(ctx)
	}()
	return ch, nil
}

// do sends req and reads the answer up to its last line. With waitEnd,
// it then waits for the supervisor's process to end.
func (c *Client) do(ctx context.Context, req request, progress func(Progress), waitEnd bool) (message, error) {
	addr, done, err := socketAddr(c.Dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return message{}, ErrNotRunning
		}
		return message{}, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", addr)
	done()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return message{}, ErrNotRunning
		}
		return message{}, fmt.Errorf("control socket: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	serverPid := 0
	if uid, pid, err := peerCred(conn.(*net.UnixConn)); err == nil {
		if uid != os.Getuid() {
			return message{}, fmt.Errorf("control socket: its supervisor runs as user %d, not as you (%d): refusing to talk to it", uid, os.Getuid())
		}
		serverPid = pid
	}
	var watched *procHandle
	if waitEnd && serverPid != 0 {
		// Before asking: the process is certainly the supervisor now.
		h := watchProcess(serverPid)
		watched = &h
		defer h.close()
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return message{}, fmt.Errorf("control socket: %w", err)
	}
	dec := json.NewDecoder(bufio.NewReader(conn))
	for answered := false; ; answered = true {
		var m message
		if err := dec.Decode(&m); err != nil {
			if ctx.Err() != nil {
				return message{}, ctx.Err()
			}
			if !answered && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
				// It was ending (killed) as it was asked.
				return message{}, ErrNotRunning
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return message{}, fmt.Errorf("control socket: the supervisor's answer: %w", err)
		}
		if m.Progress != nil {
			if progress != nil {
				progress(*m.Progress)
			}
			continue
		}
		if m.Error != "" {
			return m, errors.New(m.Error)
		}
		if !m.Done {
			continue
		}
		if waitEnd {
			if watched == nil {
				h := watchProcess(m.Pid)
				watched = &h
				defer h.close()
			}
			if err := watched.wait(ctx); err != nil {
				return m, err
			}
		}
		return m, nil
	}
}

// waitExitPolling returns once process pid has ended (kill(pid, 0) says
// it is gone, or it is a zombie) or ctx ends.
func waitExitPolling(ctx context.Context, pid int) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return nil
		}
		if st, err := ReadProc(pid); err == nil && st.State == "Z" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the supervisor (pid %d) to end: %w", pid, ctx.Err())
		case <-tick.C:
		}
	}
}
