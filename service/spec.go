package service

import (
	"context"
	"io"
	"syscall"
	"time"
)

// Policy says when an instance whose process ended is started again.
type Policy string

// The restart policies.
const (
	// OnFailure restarts a process that exited non-zero or was killed by
	// a signal; one that exited 0 is done. It is the default.
	OnFailure Policy = "on-failure"
	// Always restarts a process however it ended.
	Always Policy = "always"
	// Never leaves a process that ended as it is.
	Never Policy = "no"
)

// ReadyCheck is how a supervisor learns that an instance serves. At most one
// field is set; none means the instance is ready as soon as its process
// runs. The check is polled until it passes or the process ends.
type ReadyCheck struct {
	// HTTP is a URL answered with a 2xx or 3xx status.
	HTTP string
	// TCP is a "host:port" that accepts a connection.
	TCP string
	// Sh is a shell command that exits 0, run with the instance's Dir
	// and Env.
	Sh string
}

// Command is one instance's process, as Spec.Command renders it for a
// replica.
type Command struct {
	// Line is run by /bin/sh -c.
	Line string
	// Dir is the working directory; empty means the supervisor's.
	Dir string
	// Env is the whole environment of the process ("KEY=value"); nil
	// means none at all.
	Env []string
	// Ready is the instance's ready check.
	Ready ReadyCheck
}

// Spec describes one service: how to run its instances and how to keep
// them running. The zero value of each field is documented with it.
type Spec struct {
	// Name names the service. Required.
	Name string
	// Replicas is how many instances run. Zero means 1.
	Replicas int
	// Command renders the process of replica (1..Replicas). It is called
	// for every start of the instance, restarts included, so that values
	// are read afresh. Required.
	Command func(ctx context.Context, replica int) (Command, error)
	// Hosts, when not empty, are the hosts the service runs on, each
	// running Replicas instances, through Config.Connect; empty means
	// this machine.
	Hosts []string
	// HostCommand renders the process of replica on host, for a service
	// with Hosts. Nil means Command, the same on every host.
	HostCommand func(ctx context.Context, host string, replica int) (Command, error)

	// Deps are services that must be ready before this one starts.
	Deps []string

	// Restart is the restart policy. Empty means OnFailure.
	Restart Policy
	// Backoff is the wait before the first restart after a crash,
	// doubling with each crash up to MaxBackoff, back to Backoff once a
	// process has stayed up for ResetAfter. Zero restarts at once.
	Backoff time.Duration
	// MaxBackoff bounds the doubling. Zero means 30s.
	MaxBackoff time.Duration
	// ResetAfter is how long a process must stay up for its next crash
	// to wait Backoff again. Zero means 60s.
	ResetAfter time.Duration
	// MaxRestarts is how many crashes an instance may have within
	// RestartWindow; one more and it is failed: not restarted again.
	// Zero means 5; negative allows none: the first crash fails it.
	MaxRestarts int
	// RestartWindow is the window of MaxRestarts. Zero means 5 minutes.
	RestartWindow time.Duration

	// StopSignal is sent to the whole process group (and cgroup) to stop
	// an instance. Zero means SIGTERM.
	StopSignal syscall.Signal
	// StopGrace is how long a stopped process has before it is killed
	// (SIGKILL). Zero means 10s.
	StopGrace time.Duration

	// RecycleRSS, when not zero, recycles an instance whose processes
	// together hold more resident memory (bytes): a graceful stop, then
	// a new process, counted as a recycle and not a crash.
	RecycleRSS uint64
	// RecycleAfter, when not zero, recycles an instance whose process
	// has been up that long.
	RecycleAfter time.Duration

	// Watch, when not empty, restarts the service (rolling, as Restart)
	// when a file under WatchDir that these patterns take changes:
	// fingerprint globs ("**/*.go"), "!" to exclude. Changes are debounced.
	Watch []string
	// WatchDir is where Watch's patterns start. Empty means the
	// supervisor's working directory.
	WatchDir string

	// Nice, when not zero, runs the processes with that niceness
	// (through nice(1), so that it holds from the first instruction).
	Nice int
}

// Config configures a Supervisor.
type Config struct {
	// Services are the services the supervisor may start. Their deps
	// must be among them, without cycles.
	Services []Spec
	// Output returns where an instance's stdout and stderr go, and a
	// function called once the instance's process and what it started
	// are gone. label is "api.1" for a service of several replicas,
	// "api" for one. Nil discards the output.
	Output func(service string, replica int, label string) (stdout, stderr io.Writer, done func())
	// Log receives the supervisor's own lines about instances (started,
	// ready, exited, restarting, recycled, failed, stopped), each whole.
	// Nil discards them.
	Log io.Writer
	// ReadyInterval is how often ready checks are polled. Zero means
	// 100ms.
	ReadyInterval time.Duration
	// LimitInterval is how often RecycleRSS and RecycleAfter are checked.
	// Zero means 1s.
	LimitInterval time.Duration
	// Connect returns the Host named host (one of a Spec's Hosts), for
	// every start of an instance there. An error fails that instance
	// only. Required when a Spec has Hosts.
	Connect func(ctx context.Context, host string) (Host, error)
	// NoCgroup keeps instances out of cgroups even where gotask could
	// create them: only the process group is signalled (tests of the
	// fallback).
	NoCgroup bool
}

// withDefaults returns s with its zero fields set to their defaults.
func (s Spec) withDefaults() Spec {
	if s.Replicas <= 0 {
		s.Replicas = 1
	}
	if s.Restart == "" {
		s.Restart = OnFailure
	}
	if s.MaxBackoff == 0 {
		s.MaxBackoff = 30 * time.Second
	}
	if s.ResetAfter == 0 {
		s.ResetAfter = 60 * time.Second
	}
	if s.MaxRestarts == 0 {
		s.MaxRestarts = 5
	}
	if s.RestartWindow == 0 {
		s.RestartWindow = 5 * time.Minute
	}
	if s.StopSignal == 0 {
		s.StopSignal = syscall.SIGTERM
	}
	if s.StopGrace == 0 {
		s.StopGrace = 10 * time.Second
	}
	return s
}
