package remote

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
)

// Pool hands out one Client per host string, so that every step and task
// on a host shares its connections. ssh_config and each set of
// known_hosts files are read once, on first use, and shared by every
// dial; at most Config.MaxHandshakes connections are set up at once.
//
// Each Get holds the host's Client until a matching Release. A Client no
// one holds stays open for a later Get, but only the MaxIdleHosts
// released last do: beyond them, the Client released longest ago is
// closed, so that a run over thousands of hosts does not keep every
// connection open to its end, while a run over a few hosts reuses them in
// every task. A Pool is safe for concurrent use; Close closes every
// Client it handed out.
type Pool struct {
	cfg *Config
	run *runShared // known_hosts and handshake turns, shared by every dial

	loadOnce sync.Once
	sc       *sshConfig
	scErr    error

	mu      sync.Mutex
	clients map[string]*poolEntry
	idle    *list.List // of *poolEntry no one holds, released last first
	closed  bool
}

type poolEntry struct {
	host   string
	ready  chan struct{} // closed when the dial has finished
	client *Client
	err    error
	refs   int           // Gets not yet released
	idle   *list.Element // in Pool.idle while refs is 0
}

// DefaultMaxIdleHosts is how many hosts' Clients a Pool keeps open while
// no one holds them, when Config.MaxIdleHosts is zero.
const DefaultMaxIdleHosts = 64

// NewPool returns an empty Pool whose Clients connect with cfg (nil for
// the defaults).
func NewPool(cfg *Config) *Pool {
	if cfg == nil {
		cfg = &Config{}
	}
	return &Pool{cfg: cfg, run: newRunShared(cfg), clients: map[string]*poolEntry{}, idle: list.New()}
}

// Get returns the Client for host, dialling it on first use, and holds it
// until Release(host). Concurrent calls for one host share one dial. A
// failed dial is not remembered: the next Get tries again. A caller that
// never releases keeps the Client open until Close.
func (p *Pool) Get(ctx context.Context, host string) (*Client, error) {
	p.loadOnce.Do(func() { p.sc, p.scErr = loadSSHConfig(p.cfg) })
	if p.scErr != nil {
		return nil, p.scErr
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, fmt.Errorf("connecting to %s: connection pool already closed", host)
		}
		e := p.clients[host]
		if e == nil {
			e = &poolEntry{host: host, ready: make(chan struct{}), refs: 1}
			p.clients[host] = e
			p.mu.Unlock()
			e.client, e.err = dialResolved(ctx, p.sc, p.run, p.cfg, host)
			p.mu.Lock()
			if e.err != nil {
				delete(p.clients, host)
			} else if p.closed {
				e.client.Close()
				e.client, e.err = nil, fmt.Errorf("connecting to %s: connection pool already closed", host)
			}
			close(e.ready)
			p.mu.Unlock()
			return e.client, e.err
		}
		p.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("connecting to %s: %w", host, context.Cause(ctx))
		}
		if e.err != nil && errors.Is(e.err, context.Canceled) && ctx.Err() == nil {
			// The dial we waited for was cancelled by its own caller:
			// try again under our context.
			continue
		}
		if e.err != nil {
			return nil, e.err
		}
		p.mu.Lock()
		if p.clients[host] != e {
			// Closed as idle since the dial: dial again.
			p.mu.Unlock()
			continue
		}
		e.refs++
		if e.idle != nil {
			p.idle.Remove(e.idle)
			e.idle = nil
		}
		p.mu.Unlock()
		return e.client, nil
	}
}

// Release ends one Get's hold on host's Client. Once no Get holds it, the
// Client stays open for a later Get until more than MaxIdleHosts other
// hosts have been released after it; then it is closed. Releasing a host
// the Pool does not hold does nothing.
func (p *Pool) Release(host string) {
	p.mu.Lock()
	e := p.clients[host]
	if e == nil || e.client == nil || e.refs == 0 {
		p.mu.Unlock()
		return
	}
	e.refs--
	if e.refs > 0 {
		p.mu.Unlock()
		return
	}
	e.idle = p.idle.PushFront(e)
	var evict []*Client
	for p.idle.Len() > p.maxIdle() {
		old := p.idle.Remove(p.idle.Back()).(*poolEntry)
		old.idle = nil
		delete(p.clients, old.host)
		evict = append(evict, old.client)
	}
	p.mu.Unlock()
	for _, c := range evict {
		c.Close()
	}
}

func (p *Pool) maxIdle() int {
	switch n := p.cfg.MaxIdleHosts; {
	case n < 0:
		return 0
	case n == 0:
		return DefaultMaxIdleHosts
	default:
		return n
	}
}

// Close closes every Client of the pool. Later calls to Get fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	entries := p.clients
	p.clients = map[string]*poolEntry{}
	p.idle.Init()
	p.mu.Unlock()
	for _, e := range entries {
		<-e.ready
		if e.client != nil {
			e.client.Close()
		}
	}
	return nil
}
