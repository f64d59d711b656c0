package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gotask/gotask/service"
	"github.com/gotask/gotask/task"
)

// detachedEnv marks the process that `gotask up -d` starts in the
// background: its value is the descriptor of the pipe on which it says
// whether the services came up. It is removed from the environment at
// once, so that no service inherits it.
const detachedEnv = "GOTASK_INTERNAL_UP_READY_FD"

// readyReport is what the detached supervisor tells `gotask up -d` once
// its services are ready, or could not all be.
type readyReport struct {
	Error  string   `json:"error,omitempty"`
	Failed []string `json:"failed,omitempty"` // the services that did not become ready
	Pid    int      `json:"pid"`
	// Another supervisor claimed the project first (a gotask up started
	// at the same time): up -d asks that one instead.
	Running bool `json:"running,omitempty"`
}

// detachedChild returns the pipe to report readiness on when this
// process is the background supervisor that `gotask up -d` started, and
// nil otherwise.
func detachedChild() *os.File {
	v, ok := os.LookupEnv(detachedEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(detachedEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return nil // not the pipe that up -d gave
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "ready")
}

// detachedStreams points the background supervisor's output at its
// rotated log, .gotask/logs/up.log.
func detachedStreams(reg *task.Registry) (*Streams, io.Closer, error) {
	if err := service.PrivateDir(logsDir(reg)); err != nil {
		return nil, nil, err
	}
	lf := &service.LogFile{Path: filepath.Join(logsDir(reg), upLogName)}
	return &Streams{Out: lf, ErrOut: lf, NoColor: true}, lf, nil
}

// reportReady tells `gotask up -d` how the start went, and closes the
// pipe.
func reportReady(pipe *os.File, startErr error, sts []service.Status) {
	r := readyReport{Pid: os.Getpid()}
	if errors.As(startErr, new(*service.RunningError)) {
		r.Running = true
	}
	if startErr != nil {
		r.Error = startErr.Error()
		for _, st := range sts {
			if st.State != service.Ready && !slices.Contains(r.Failed, st.Service) && st.State != service.Stopped {
				r.Failed = append(r.Failed, st.Service)
			}
		}
	}
	_ = json.NewEncoder(pipe).Encode(r)
	pipe.Close()
}

// joinRunning handles gotask up [-d] when a supervisor already runs the
// project: it asks that one to start the named services (after running
// their deps tasks, with runDeps), or says that they are all up. It
// reports false when no supervisor is running.
func joinRunning(ctx context.Context, opts *rootOptions, reg *task.Registry, names []string, runDeps func() error) (bool, error) {
	return join(ctx, opts, reg, names, runDeps, false)
}

// joinStarting is joinRunning when another supervisor is known to hold
// the project (its Claim won): it may not listen yet, for the few system
// calls between taking the lock and listening, so a missing socket is
// asked again for a while.
func joinStarting(ctx context.Context, opts *rootOptions, reg *task.Registry, names []string, running error) error {
	joined, err := join(ctx, opts, reg, names, func() error { return nil }, true)
	if !joined && err == nil {
		err = fmt.Errorf("%v, and is starting or ending: try again in a moment", running)
	}
	return err
}

// startingFor is how long joinStarting waits for a supervisor that holds
// the project to listen.
const startingFor = 5 * time.Second

func join(ctx context.Context, opts *rootOptions, reg *task.Registry, names []string, runDeps func() error, starting bool) (bool, error) {
	cl := &service.Client{Dir: runDir(reg)}
	sts, err := cl.Status(ctx)
	for deadline := time.Now().Add(startingFor); starting && errors.Is(err, service.ErrNotRunning) && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		sts, err = cl.Status(ctx)
	}
	if errors.Is(err, service.ErrNotRunning) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	want := chosenStatuses(sts, serviceNames(serviceClosure(reg, names)))
	up := len(want) > 0
	for _, st := range want {
		up = up && st.State == service.Ready
	}
	if up {
		fmt.Fprintf(opts.Streams.Out, "%s already up (%s); gotask ps shows them\n", upWhat(names), readyLine(want))
		return true, nil
	}
	if err := runDeps(); err != nil {
		return true, err
	}
	sts, err = cl.Start(ctx, names...)
	if err != nil {
		return true, fmt.Errorf("up: the running supervisor: %w", err)
	}
	fmt.Fprintf(opts.Streams.Out, "started %s in the running supervisor: %s\n", describeNames(names), readyLine(chosenStatuses(sts, serviceNames(serviceClosure(reg, names)))))
	return true, nil
}

func upWhat(names []string) string {
	if len(names) == 0 {
		return "every service is"
	}
	if len(names) == 1 {
		return names[0] + " is"
	}
	return strings.Join(names, ", ") + " are"
}

func serviceNames(ss []*task.Service) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// upDetach starts the supervisor in the background, in a session of its
// own, with the same command line but -d, and returns once it says its
// services are ready, or that one failed: then it prints which and the
// last lines of its log, and fails.
func upDetach(ctx context.Context, opts *rootOptions, reg *task.Registry, names, args []string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("up -d: finding gotask's own program: %w", err)
	}
	if err := service.PrivateDir(logsDir(reg)); err != nil {
		return err
	}
	// Emptied: what it holds is this supervisor's alone.
	out, err := os.OpenFile(filepath.Join(logsDir(reg), upOutName), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("up -d: %w", err)
	}
	defer out.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("up -d: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(self, args...)
	// The name it was started by: a program that is gotask among others
	// (a test binary, a busybox-style link) goes by it.
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), detachedEnv+"=3")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("up -d: starting the supervisor: %w", err)
	}
	pid := cmd.Process.Pid
	// It runs on its own; nothing here waits for it to end but the
	// kernel's reaping when this process exits.
	go func() { _ = cmd.Wait() }()
	stop := context.AfterFunc(ctx, func() {
		// Ctrl-C while waiting: stop the supervisor and its services.
		_ = syscall.Kill(pid, syscall.SIGTERM)
	})
	defer stop()
	type result struct {
		line []byte
		err  error
	}
	got := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadBytes('\n')
		got <- result{line, err}
	}()
	// A ready check that never passes keeps the supervisor waiting:
	// say what it waits for, now and then.
	tick := time.NewTicker(waitingEvery)
	defer tick.Stop()
	var res result
	for waiting := true; waiting; {
		select {
		case res = <-got:
			waiting = false
		case <-tick.C:
			if sts, err := (&service.Client{Dir: runDir(reg)}).Status(ctx); err == nil {
				if w := notReady(chosenStatuses(sts, serviceNames(serviceClosure(reg, names)))); w != "" {
					fmt.Fprintf(opts.Streams.ErrOut, "gotask up -d: waiting for %s; Ctrl-C stops the supervisor\n", w)
				}
			}
		}
	}
	line, err := res.line, res.err
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var rep readyReport
	if err == nil && json.Unmarshal(line, &rep) == nil && rep.Running {
		// Another gotask up claimed the project meanwhile: ask it.
		return joinStarting(ctx, opts, reg, names, errors.New(rep.Error))
	}
	if err != nil || json.Unmarshal(line, &rep) != nil {
		fmt.Fprintf(opts.Streams.ErrOut, "gotask up -d: the supervisor (pid %d) ended before its services were up; the end of its output:\n", pid)
		printTail(opts.Streams.ErrOut, filepath.Join(logsDir(reg), upOutName), 0, 10, nil)
		printTail(opts.Streams.ErrOut, filepath.Join(logsDir(reg), upLogName), service.DefaultLogKeep, 10, nil)
		return &exitStatus{code: ExitFailure}
	}
	if rep.Error != "" {
		fmt.Fprintf(opts.Streams.ErrOut, "gotask up -d: %s\n", rep.Error)
		for _, name := range rep.Failed {
			fmt.Fprintf(opts.Streams.ErrOut, "gotask up -d: the last lines of %s:\n", name)
			printTail(opts.Streams.ErrOut, filepath.Join(logsDir(reg), upLogName), service.DefaultLogKeep, 10, serviceLines([]string{name}))
		}
		fmt.Fprintf(opts.Streams.ErrOut, "gotask up -d: the supervisor (pid %d) runs on with the other services: gotask ps shows them, gotask down stops them\n", rep.Pid)
		return &exitStatus{code: ExitFailure}
	}
	fmt.Fprintf(opts.Streams.Out, "gotask up -d: %s; supervisor pid %d, logs in %s (gotask logs), gotask down stops them\n",
		readyLineOf(ctx, reg, names), rep.Pid, relative(logsDir(reg)))
	return nil
}

// waitingEvery is how often up -d says what it is still waiting for.
const waitingEvery = 10 * time.Second

// notReady lists the instances that are not ready: "api.1 (running),
// worker (restarting)".
func notReady(sts []service.Status) string {
	var out []string
	for _, st := range sts {
		if st.State != service.Ready {
			out = append(out, fmt.Sprintf("%s.%d (%s)", st.Service, st.Replica, st.State))
		}
	}
	return strings.Join(out, ", ")
}

// readyLineOf asks the supervisor how many instances of the named
// services (and those they depend on; all for none) are ready.
func readyLineOf(ctx context.Context, reg *task.Registry, names []string) string {
	sts, err := (&service.Client{Dir: runDir(reg)}).Status(ctx)
	if err != nil {
		return "services up"
	}
	return readyLine(chosenStatuses(sts, serviceNames(serviceClosure(reg, names))))
}

func printTail(w io.Writer, path string, keep, n int, keepLine func([]byte) bool) {
	var b bytes.Buffer
	if keep == 0 {
		if data, err := os.ReadFile(path); err == nil {
			lines := strings.SplitAfter(strings.TrimRight(string(data), "\n"), "\n")
			if len(lines) > n {
				lines = lines[len(lines)-n:]
			}
			for _, l := range lines {
				if l != "" {
					b.WriteString("  " + strings.TrimRight(l, "\n") + "\n")
				}
			}
		}
	} else {
		var raw bytes.Buffer
		_, _ = service.TailLog(&raw, path, keep, n, keepLine)
		for l := range strings.Lines(raw.String()) {
			b.WriteString("  " + l)
		}
	}
	_, _ = w.Write(b.Bytes())
}

// serviceLines returns a filter of the log lines of the named services
// (every line when none): their instances' output, [api.1] or [worker],
// and gotask's lines about them, "gotask: api.1: ...".
func serviceLines(names []string) func([]byte) bool {
	if len(names) == 0 {
		return nil
	}
	return func(line []byte) bool {
		var label string
		switch {
		case bytes.HasPrefix(line, []byte("[")):
			end := bytes.IndexByte(line, ']')
			if end < 0 {
				return false
			}
			label = string(line[1:end])
		case bytes.HasPrefix(line, []byte("gotask: ")):
			// Up to ": ", not ':': a service of an included file
			// is named web:api.
			rest := line[len("gotask: "):]
			end := bytes.Index(rest, []byte(": "))
			if end < 0 {
				return false
			}
			label = string(rest[:end])
		default:
			return false
		}
		// A service on hosts is labelled "HOST api.1": a host name has
		// no space.
		if i := strings.LastIndexByte(label, ' '); i >= 0 {
			label = label[i+1:]
		}
		// The replica's number follows the last '.': a namespace may
		// have one too (v1.2:api.3).
		name := label
		if i := strings.LastIndexByte(label, '.'); i >= 0 {
			if _, err := strconv.Atoi(label[i+1:]); err == nil {
				name = label[:i]
			}
		}
		return slices.Contains(names, name)
	}
}

const logsHelp = `Usage:
  gotask logs [-f] [-n N] [SERVICE...]

Prints the log of the background supervisor (gotask up -d), kept in
.gotask/logs/up.log and rotated at 10 MB (up.log.1 and up.log.2 kept):
the last N lines of the named services (all when none), their instances'
output ([api.1], [worker]) and gotask's lines about them. With -f it then
follows the log as it grows, across rotations, until the supervisor ends
(gotask down) or Ctrl-C; with no supervisor running, until Ctrl-C. It
works whether or not the supervisor still runs. A foreground gotask up
writes no log: its output is in its terminal.

Flags:
  -f, --follow    follow the log
  -n, --lines N   how many of the last lines to print (default 100; -1 for all)
  -h, --help      show this help
`

func logsRun(ctx context.Context, opts *rootOptions, reg *task.Registry, args []string) error {
	var follow bool
	var n int
	names, done, err := verbFlags(opts, "logs", logsHelp, args, func(fs *pflag.FlagSet) {
		fs.BoolVarP(&follow, "follow", "f", false, "")
		fs.IntVarP(&n, "lines", "n", 100, "")
	})
	if done || err != nil {
		return err
	}
	if err := checkServices("logs", reg, names); err != nil {
		return err
	}
	path := filepath.Join(logsDir(reg), upLogName)
	if len(service.LogFiles(path, service.DefaultLogKeep)) == 0 {
		_, serr := (&service.Client{Dir: runDir(reg)}).Status(ctx)
		if errors.Is(serr, service.ErrNotRunning) {
			return notRunning(reg)
		}
		if !follow {
			return fmt.Errorf("no logs in %s: only gotask up -d writes them (a foreground gotask up prints to its terminal)", relative(logsDir(reg)))
		}
	}
	filter := serviceLines(names)
	var ended <-chan struct{}
	if follow {
		var stop func()
		ctx, stop = interruptible(ctx)
		defer stop()
		// Following a running supervisor ends with it (gotask down),
		// once its last lines are out; with none running, only Ctrl-C
		// ends it. Known before the first line is printed.
		ended, _ = (&service.Client{Dir: runDir(reg)}).Ended(ctx)
	}
	off, err := service.TailLog(opts.Streams.Out, path, service.DefaultLogKeep, n, filter)
	if err != nil || !follow {
		return err
	}
	return service.FollowLog(ctx, opts.Streams.Out, path, service.DefaultLogKeep, off, filter, ended)
}

// stopHint says how the services are stopped.
func stopHint(detached bool) string {
	if detached {
		return "gotask down stops them"
	}
	return "Ctrl-C stops them"
}

// withoutDetach is the command line of gotask up -d (all of args, which
// end with verbArgs: "up" and what follows it) without its -d, for the
// background supervisor to run.
func withoutDetach(args, verbArgs []string) []string {
	var out []string
	if n := len(args) - len(verbArgs); n >= 0 && slices.Equal(args[n:], verbArgs) {
		out = slices.Clone(args[:n])
	}
	for _, a := range verbArgs {
		if a != "-d" && a != "--detach" && a != "--detach=true" {
			out = append(out, a)
		}
	}
	return out
}
