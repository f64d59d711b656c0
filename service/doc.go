// Package service supervises long-running processes: the services of a
// tasks.toml ([services.X]). A Supervisor starts each service's
// instances in dependency order, each process in its own process group
// and, on Linux where gotask may create one, its own cgroup; waits for
// their readiness (http, tcp or sh checks); restarts them per their
// restart policy with a doubling backoff, failing an instance after
// too many crashes; recycles those that outgrow restart_when (rss,
// after); restarts a service whose watched files change; and stops them
// all: the stop signal to the whole group and cgroup, then KILL after a
// grace period (at once after Kill).
//
// Status, Restart (rolling), Stop, Start and Wait are the supervisor's
// control surface: `gotask up` uses them in the foreground, the control
// socket serves them to `gotask ps`, `restart` and `stop`. ReadProc
// reads a process's statistics (RSS, CPU time, nice, state, start time)
// for both.
//
// A supervisor killed with SIGKILL cannot stop its instances; their
// cgroups are named after it, and the next New on the machine kills
// those whose supervisor is gone.
//
// Nothing here writes to os.Stdout: instances' output goes to the
// writers the caller gives (Config.Output).
package service
