package service

import "time"

// State is where an instance of a service is in its life.
type State string

// The states of an instance.
const (
	// Starting: the instance is waiting for its service's deps (tasks,
	// or other services' readiness) and has no process yet.
	Starting State = "starting"
	// Running: the process is up; its ready check has not passed yet
	// (or it has none and is taken as ready at once, see Ready).
	Running State = "running"
	// Ready: the ready check passed; dependants may start.
	Ready State = "ready"
	// Restarting: the process ended (or is being recycled) and a new one
	// starts after the backoff.
	Restarting State = "restarting"
	// Failed: the service crashed more than max_restarts times in the
	// window, or could not be started; it is not restarted again.
	Failed State = "failed"
	// Stopped: the instance was stopped, or ended and its restart
	// policy says not to start it again.
	Stopped State = "stopped"
)

// Status is what a Supervisor knows of one instance of a service.
type Status struct {
	Service  string
	Replica  int       // 1..replicas
	Host     string    // "" for this machine
	Pid      int       // 0 when not running
	State    State     //
	Since    time.Time // when the current process started (zero when none)
	Restarts int       // how many times the instance was started again (crashes and recycles)
	LastExit string    // "exit 1", "signal KILL", "" when none

	// Added by svc-core beyond the contract's first draft.
	Recycles int    // how many of Restarts were recycles (restart_when), not crashes
	Error    string // why the instance failed, when State is Failed; "" otherwise

	// Added by svc-hosts.
	Label string // how output prefixes the instance: "api.1", "worker", "web1 api.1"
}

// ProcStat is what the operating system says of one process.
type ProcStat struct {
	RSS   uint64        // resident memory, in bytes
	CPU   time.Duration // user + system time used so far
	Nice  int           // scheduling priority, -20..19
	State string        // one letter, as ps shows it: R, S, D, Z, T...
	Start time.Time     // when the process started
}
