package remote

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Pool hands out one Client per host string and keeps it for the whole
// run, so that every step and task on a host shares its connections.
// ssh_config is read once, on first use. A Pool is safe for concurrent
// use; Close closes every Client it handed out.
type Pool struct {
	cfg *Config
	run *runShared // known_hosts and handshake turns, shared by every dial

	loadOnce sync.Once
	sc       *sshConfig
	scErr    error

	mu      sync.Mutex
	clients map[string]*poolEntry
	closed  bool
}

type poolEntry struct {
	ready  chan struct{} // closed when the dial has finished
	client *Client
	err    error
}

// NewPool returns an empty Pool whose Clients connect with cfg (nil for
// the defaults).
func NewPool(cfg *Config) *Pool {
	if cfg == nil {
		cfg = &Config{}
	}
	return &Pool{cfg: cfg, run: newRunShared(cfg), clients: map[string]*poolEntry{}}
}

// Get returns the Client for host, dialling it on first use. Concurrent
// calls for one host share one dial. A failed dial is not remembered: the
// next Get tries again.
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
			e = &poolEntry{ready: make(chan struct{})}
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
		return e.client, e.err
	}
}

// Close closes every Client of the pool. Later calls to Get fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	entries := p.clients
	p.clients = map[string]*poolEntry{}
	p.mu.Unlock()
	for _, e := range entries {
		<-e.ready
		if e.client != nil {
			e.client.Close()
		}
	}
	return nil
}
