package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/service"
	"github.com/gotask/gotask/task"
)

// The directories under a project's .gotask/ that the services use: the
// control socket and pid file, and `gotask up -d`'s logs.
const (
	runDirName  = "run"
	logsDirName = "logs"
	upLogName   = "up.log"         // the supervisor's output, rotated
	upOutName   = "supervisor.out" // what the detached process itself prints outside its log: a crash
)

func runDir(reg *task.Registry) string {
	return filepath.Join(reg.Dir, task.StateDirName, runDirName)
}

func logsDir(reg *task.Registry) string {
	return filepath.Join(reg.Dir, task.StateDirName, logsDirName)
}

// notRunning is what ps, restart, stop and logs say when no supervisor
// runs the project.
func notRunning(reg *task.Registry) error {
	if _, err := os.Lstat(filepath.Join(runDir(reg), service.SocketName)); err == nil {
		// Nothing listens on the socket left there: its supervisor was
		// killed (SIGKILL, a crash) and could not clean up.
		return fmt.Errorf("no services running in %s: its last supervisor ended without stopping them (killed?); gotask up starts a new one", reg.Dir)
	}
	return fmt.Errorf("no services running in %s; start them with gotask up", reg.Dir)
}

// verbFlags parses a service command's flags; help is its --help text.
func verbFlags(opts *rootOptions, verb, help string, args []string, define func(*pflag.FlagSet)) ([]string, bool, error) {
	fs := pflag.NewFlagSet(verb, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	wantHelp := fs.BoolP("help", "h", false, "")
	if define != nil {
		define(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, false, &UsageError{Msg: fmt.Sprintf("gotask %s: %v (see gotask %s --help)", verb, err, verb)}
	}
	if *wantHelp || opts.Help {
		_, err := io.WriteString(opts.Streams.Out, help)
		return nil, true, err
	}
	return fs.Args(), false, nil
}

// checkServices refuses a name that is no service of reg's, with the
// nearest one.
func checkServices(verb string, reg *task.Registry, names []string) error {
	var all []string
	for _, s := range reg.Services() {
		all = append(all, s.Name)
	}
	for _, n := range names {
		if slices.Contains(all, n) {
			continue
		}
		msg := fmt.Sprintf("gotask %s: no service %q in %s (its services: %s)", verb, n, reg.File, strings.Join(all, ", "))
		if m := task.Closest(n, all); m != "" {
			msg += fmt.Sprintf("; did you mean %q?", m)
		}
		return &UsageError{Msg: msg}
	}
	return nil
}

const psHelp = `Usage:
  gotask ps [--json]

Shows every instance of the services that the running supervisor (gotask up,
or gotask up -d) runs: service, replica, pid, state (starting, running,
ready, restarting, failed, stopped), uptime, restarts, CPU%, RSS and nice.
CPU% is the CPU time the process has used since it started, divided by how
long it has run (as ps(1) counts it), not a recent sample. RSS and nice are
read from /proc (ps -o elsewhere) as ps runs.

Flags:
      --json   print the instances as a JSON array
  -h, --help   show this help
`

// psRow is an instance as gotask ps --json prints it.
type psRow struct {
	Service  string  `json:"service"`
	Replica  int     `json:"replica"`
	Host     string  `json:"host,omitempty"`
	Pid      int     `json:"pid"`
	State    string  `json:"state"`
	Since    string  `json:"since,omitempty"`
	Uptime   float64 `json:"uptime_seconds"`
	Restarts int     `json:"restarts"`
	LastExit string  `json:"last_exit,omitempty"`
	CPU      float64 `json:"cpu_percent"`
	RSS      uint64  `json:"rss_bytes"`
	Nice     int     `json:"nice"`
	Error    string  `json:"error,omitempty"`

	proc bool // the process's statistics were read
}

func psRun(ctx context.Context, opts *rootOptions, reg *task.Registry, args []string) error {
	var asJSON bool
	rest, done, err := verbFlags(opts, "ps", psHelp, args, func(fs *pflag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "")
	})
	if done || err != nil {
		return err
	}
	if len(rest) > 0 {
		return &UsageError{Msg: fmt.Sprintf("gotask ps takes no service names (it shows them all), not %q", rest[0])}
	}
	sts, err := (&service.Client{Dir: runDir(reg)}).Status(ctx)
	if errors.Is(err, service.ErrNotRunning) {
		return notRunning(reg)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	rows := make([]psRow, 0, len(sts))
	for _, st := range sts {
		r := psRow{Service: st.Service, Replica: st.Replica, Host: st.Host, Pid: st.Pid, State: string(st.State),
			Restarts: st.Restarts, LastExit: st.LastExit, Error: st.Error}
		if st.Pid != 0 && !st.Since.IsZero() {
			r.Since = st.Since.Format(time.RFC3339)
			r.Uptime = now.Sub(st.Since).Seconds()
		}
		if st.Pid != 0 && st.Host == "" {
			if p, err := service.ReadProc(st.Pid); err == nil {
				r.proc, r.RSS, r.Nice = true, p.RSS, p.Nice
				if ran := now.Sub(p.Start); ran > 0 {
					r.CPU = 100 * p.CPU.Seconds() / ran.Seconds()
				}
			}
		}
		rows = append(rows, r)
	}
	if asJSON || opts.JSON {
		enc := json.NewEncoder(opts.Streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(opts.Streams.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tREPLICA\tPID\tSTATE\tUPTIME\tRESTARTS\tCPU%\tRSS\tNICE")
	for _, r := range rows {
		pid, up, cpu, rss, nice := "-", "-", "-", "-", "-"
		if r.Pid != 0 {
			pid = fmt.Sprint(r.Pid)
		}
		if r.Since != "" {
			up = (time.Duration(r.Uptime) * time.Second).String()
		}
		if r.proc {
			cpu, rss, nice = fmt.Sprintf("%.1f", r.CPU), humanBytes(r.RSS), fmt.Sprint(r.Nice)
		}
		name := r.Service
		if r.Host != "" {
			name = r.Host + " " + name
		}
		state := r.State
		if r.State == string(service.Failed) {
			state = opts.Streams.paint(output.Red, state)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", name, r.Replica, pid, state, up, r.Restarts, cpu, rss, nice)
	}
	return tw.Flush()
}

// humanBytes writes n as ps users read it: 512K, 12.3M, 1.1G.
func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%dK", n>>10)
	}
}

const restartHelp = `Usage:
  gotask restart [SERVICE...]

Restarts the named services (all when none) in the running supervisor, one
instance at a time: each is stopped gracefully and started again, and the
next waits until it is ready, so a service of several replicas always has
one ready. Prints each instance as it is replaced and when it is ready.

Flags:
  -h, --help   show this help
`

func restartRun(ctx context.Context, opts *rootOptions, reg *task.Registry, args []string) error {
	names, done, err := verbFlags(opts, "restart", restartHelp, args, nil)
	if done || err != nil {
		return err
	}
	if err := checkServices("restart", reg, names); err != nil {
		return err
	}
	out := opts.Streams.Out
	sts, err := (&service.Client{Dir: runDir(reg)}).Restart(ctx, func(p service.Progress) {
		fmt.Fprintln(out, p.String())
	}, names...)
	if errors.Is(err, service.ErrNotRunning) {
		return notRunning(reg)
	}
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	fmt.Fprintf(out, "restarted %s: %s\n", describeNames(names), readyLine(chosenStatuses(sts, names)))
	return nil
}

const stopHelp = `Usage:
  gotask stop [SERVICE...]

Stops the named services (all when none) in the running supervisor: their
stop_signal to each process group, then KILL after stop_grace. The
supervisor runs on (gotask up SERVICE starts them again; gotask down ends
it).

Flags:
  -h, --help   show this help
`

func stopRun(ctx context.Context, opts *rootOptions, reg *task.Registry, args []string) error {
	names, done, err := verbFlags(opts, "stop", stopHelp, args, nil)
	if done || err != nil {
		return err
	}
	if err := checkServices("stop", reg, names); err != nil {
		return err
	}
	sts, err := (&service.Client{Dir: runDir(reg)}).Stop(ctx, names...)
	if errors.Is(err, service.ErrNotRunning) {
		return notRunning(reg)
	}
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	fmt.Fprintf(opts.Streams.Out, "stopped %s (%s)\n", describeNames(names), instances(len(chosenStatuses(sts, names))))
	return nil
}

const downHelp = `Usage:
  gotask down

Stops every service and then the supervisor (gotask up in another terminal,
or gotask up -d), and returns once it has ended. With nothing running it
says so and exits 0.

Flags:
  -h, --help   show this help
`

func downRun(ctx context.Context, opts *rootOptions, reg *task.Registry, args []string) error {
	rest, done, err := verbFlags(opts, "down", downHelp, args, nil)
	if done || err != nil {
		return err
	}
	if len(rest) > 0 {
		return &UsageError{Msg: fmt.Sprintf("gotask down stops everything; to stop some services, gotask stop %s", strings.Join(rest, " "))}
	}
	sts, err := (&service.Client{Dir: runDir(reg)}).Down(ctx)
	if errors.Is(err, service.ErrNotRunning) {
		fmt.Fprintf(opts.Streams.Out, "no services running in %s; nothing to stop\n", reg.Dir)
		return nil
	}
	if err != nil {
		return fmt.Errorf("down: %w", err)
	}
	fmt.Fprintf(opts.Streams.Out, "stopped %s and the supervisor\n", instances(len(sts)))
	return nil
}

// instances is "1 instance", "2 instances".
func instances(n int) string {
	if n == 1 {
		return "1 instance"
	}
	return fmt.Sprintf("%d instances", n)
}

// describeNames is "api, worker", or "every service" for none.
func describeNames(names []string) string {
	if len(names) == 0 {
		return "every service"
	}
	return strings.Join(names, ", ")
}

// chosenStatuses keeps the statuses of the named services (all for none).
func chosenStatuses(sts []service.Status, names []string) []service.Status {
	if len(names) == 0 {
		return sts
	}
	return slices.DeleteFunc(slices.Clone(sts), func(st service.Status) bool { return !slices.Contains(names, st.Service) })
}

// controlled is the supervisor as the control socket serves it: it
// remembers whether the services were stopped by a request, so that up
// waits for the next start instead of ending when nothing runs.
type controlled struct {
	*service.Supervisor

	mu      sync.Mutex
	stopped bool             // the last Stop or Start asked was a Stop
	started chan struct{}    // a Start came in (buffered)
	before  []service.Status // before the last Stop of every service, for up's summary
}

func newControlled(s *service.Supervisor) *controlled {
	return &controlled{Supervisor: s, started: make(chan struct{}, 1)}
}

func (c *controlled) Stop(ctx context.Context, names ...string) error {
	c.mu.Lock()
	c.stopped = true
	if sts := c.Supervisor.Status(); len(names) == 0 && slices.ContainsFunc(sts, func(st service.Status) bool { return st.Pid != 0 }) {
		c.before = sts
	}
	c.mu.Unlock()
	return c.Supervisor.Stop(ctx, names...)
}

func (c *controlled) Start(ctx context.Context, names ...string) error {
	c.mu.Lock()
	c.stopped, c.before = false, nil
	c.mu.Unlock()
	err := c.Supervisor.Start(ctx, names...)
	select {
	case c.started <- struct{}{}:
	default:
	}
	return err
}

// beforeStop returns the statuses from before the last stop of every
// service through the socket (gotask stop, gotask down), or nil.
func (c *controlled) beforeStop() []service.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.before
}

// idle says that nothing runs because a request stopped it, and nothing
// failed: up then waits for a start.
func (c *controlled) idle() bool {
	c.mu.Lock()
	stopped := c.stopped
	c.mu.Unlock()
	if !stopped {
		return false
	}
	for _, st := range c.Supervisor.Status() {
		if st.State == service.Failed {
			return false
		}
	}
	return true
}
