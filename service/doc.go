// Package service supervises long-running processes: the services of a
// tasks.toml ([services.X]). A Supervisor starts each service's
// instances in dependency order, each in its own process group (and, on
// Linux when gotask may create one, its own cgroup), waits for their
// readiness, restarts them per their restart policy with a doubling
// backoff, recycles those that outgrow their limits, and stops them all
// (the stop signal to the whole group, then KILL after a grace period).
//
// Status, Restart, Stop and Start are the supervisor's control surface:
// `gotask up` uses them in the foreground, the control socket serves
// them to `gotask ps`, `restart` and `stop`. ReadProc reads a process's
// statistics (RSS, CPU time, nice, state, start time) for both.
//
// Nothing here writes to os.Stdout: instances' output goes to the
// writers the caller gives (Config.Output).
package service
