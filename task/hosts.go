package task

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/runner"
)

// DefaultParallel is how many hosts run at once when Executor.Parallel is
// zero.
const DefaultParallel = 32

// Connector reaches hosts for an Executor. It does not close what it
// opened: that is for whoever made it, once no run needs the connections
// (a connection is shared by every step and task on its host).
type Connector interface {
	// Connect returns the runner for a host string such as
	// "deploy@web1:22" or an ssh_config alias; for put and get steps the
	// runner must also be a runner.Copier.
	Connect(ctx context.Context, host string) (runner.Runner, error)
}

// Releaser is a Connector that is told when a task is done with a host,
// so that it can close connections no task needs any more. Each
// successful Connect of a task's run on a host is followed by one Release
// with the same host string once that task's steps there have ended.
type Releaser interface {
	Connector
	// Release says one Connect's runner for host is no longer used.
	Release(host string)
}

// ConnectFunc is a function used as a Connector.
type ConnectFunc func(ctx context.Context, host string) (runner.Runner, error)

// Connect calls f.
func (f ConnectFunc) Connect(ctx context.Context, host string) (runner.Runner, error) {
	return f(ctx, host)
}

// target is one host a task runs on.
type target struct {
	name string // as given: the alias or host string, for {{.host}} and output
	addr string // what to connect to: name with its group's user and port
}

// targets resolves the hosts a task runs on: override (the CLI's -H) or
// the task's own hosts, with groups expanded and --only/--exclude applied.
func (e *execution) targets(t *Task, override []string) ([]target, error) {
	list := t.Hosts
	if len(override) > 0 {
		list = override
	}
	if len(list) == 0 {
		return nil, nil
	}
	var out []target
	seen := map[string]bool{}
	add := func(name, addr string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, target{name: name, addr: addr})
		}
	}
	for _, entry := range list {
		name, isGroup := strings.CutPrefix(entry, "@")
		g, ok := e.Registry.Groups[name]
		switch {
		case ok && g.Command != "" && !g.loaded:
			return nil, &ArgError{Task: t.Name, Err: fmt.Errorf("host group %q: its command has not run; call Registry.ResolveGroups before the run", name)}
		case ok:
			for _, h := range g.Hosts {
				add(h, withDefaults(h, g))
			}
		case isGroup:
			return nil, &ArgError{Task: t.Name, Err: fmt.Errorf("unknown host group %q; define it under [hosts] in tasks.toml", name)}
		default:
			add(entry, entry)
		}
	}
	var kept []target
	for _, tg := range out {
		if matchAny(e.Only, tg.name, true) && !matchAny(e.Exclude, tg.name, false) {
			kept = append(kept, tg)
		}
	}
	if len(kept) == 0 {
		return nil, &ArgError{Task: t.Name, Err: fmt.Errorf("%w: the only and exclude patterns leave none of %s", ErrNoHostsLeft, strings.Join(list, ", "))}
	}
	return kept, nil
}

// withDefaults adds a group's user and port to a host string that names
// neither.
func withDefaults(host string, g *HostGroup) string {
	if g.User != "" && !strings.Contains(host, "@") {
		host = g.User + "@" + host
	}
	if g.Port != 0 && !hasPort(host) {
		if strings.Contains(host, ":") { // a bare IPv6 address
			at := strings.LastIndex(host, "@") + 1
			host = host[:at] + "[" + host[at:] + "]"
		}
		host += ":" + strconv.Itoa(g.Port)
	}
	return host
}

func hasPort(host string) bool {
	host = host[strings.LastIndex(host, "@")+1:]
	if strings.HasPrefix(host, "[") {
		return strings.Contains(host, "]:")
	}
	return strings.Count(host, ":") == 1
}

// matchAny reports whether name matches one of patterns (path.Match
// syntax); empty reports def.
func matchAny(patterns []string, name string, def bool) bool {
	if len(patterns) == 0 {
		return def
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// fanOut runs the task on every target: in rolling batches of t.Serial
// hosts, or all at once, never more than Parallel at a time. Each host's
// result is recorded with the hash of definition as it ends, so that a
// run stopped mid-way can be resumed; hosts that --resume or
// --retry-failed find done are left out.
func (e *execution) fanOut(ctx context.Context, t *Task, args map[string]any, targets []target, definition []byte) error {
	multi := len(targets) > 1
	recs := newHostRecords(e, t, definition)
	targets, err := e.pending(t, recs, targets)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		if !e.Quiet || e.Dry {
			fmt.Fprintf(orDiscard(e.Stderr), "gotask: task %s: no host left to run\n", t.Name)
		}
		return nil
	}
	var recMu sync.Mutex
	var recErr error
	record := func(host, result string) {
		if e.Dry {
			return
		}
		if err := recs.save(host, result); err != nil {
			recMu.Lock()
			recErr = errors.Join(recErr, &TaskError{Task: t.Name, Host: host, Err: err})
			recMu.Unlock()
		}
	}
	parallel := e.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	sizes := batches(t, len(targets))
	con := e.console()
	width := 0
	for _, tg := range targets {
		width = max(width, len(tg.name))
	}
	results := make([]HostResult, len(targets))
	for i, tg := range targets {
		results[i] = HostResult{Host: tg.name, Status: "skipped"}
	}
	con.StartProgress(len(targets))
	failures := 0
	sem := make(chan struct{}, parallel)
	stopped := false
	stoppedAt := len(targets) // the first host of the batches not started
	for b, start := 0, 0; start < len(targets) && !stopped; b, start = b+1, start+sizes[b] {
		end := start + sizes[b]
		var wg sync.WaitGroup
		for i := start; i < end; i++ {
			// Take the slot here, not in the goroutine, so that hosts
			// start in the order given (-P 1 runs them in that order).
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = HostResult{Host: targets[i].name, Status: "failed", Err: ctx.Err()}
				record(targets[i].name, "skipped")
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				con.HostStarted()
				results[i] = e.runHost(ctx, t, args, targets[i], i, multi, width)
				record(targets[i].name, results[i].Status)
				con.HostDone(results[i].Status != "ok")
			}()
		}
		wg.Wait()
		batchFailed := 0
		for i := start; i < end; i++ {
			if results[i].Status != "ok" {
				batchFailed++
			}
		}
		failures += batchFailed
		if failures > 0 && end < len(targets) && (ctx.Err() != nil || e.tooManyFailures(t, failures, len(targets), batchFailed, end-start)) {
			stopped, stoppedAt = true, end
		}
	}
	con.EndProgress()
	for i := stoppedAt; i < len(targets); i++ {
		record(targets[i].name, "skipped")
	}
	if multi {
		e.summary(t, results)
	}
	if recErr != nil {
		fmt.Fprintf(orDiscard(e.Stderr), "gotask: %v; resuming or retrying will run those hosts again\n", recErr)
	}
	var first error
	for _, r := range results {
		if r.Status != "ok" && r.Status != "skipped" {
			first = r.Err
			break
		}
	}
	if first == nil && failures == 0 {
		return nil
	}
	if !multi {
		return first
	}
	if errors.Is(first, context.Canceled) || first == nil {
		first = errors.Join(first, ctx.Err())
	}
	return &HostsError{Task: t.Name, Results: results, first: first}
}

// batches returns the sizes of the rolling batches that cover total
// hosts: Batches, the last size repeated, or Serial hosts at a time, or
// all at once.
func batches(t *Task, total int) []int {
	var sizes []int
	for left, i := total, 0; left > 0; i++ {
		size := total
		switch {
		case len(t.Batches) > 0:
			b := t.Batches[min(i, len(t.Batches)-1)]
			if p, ok := strings.CutSuffix(b, "%"); ok {
				pct, _ := strconv.ParseFloat(p, 64) // checked at load
				size = max(1, int(float64(total)*pct/100))
			} else {
				size, _ = strconv.Atoi(b)
			}
		case t.Serial > 0:
			size = t.Serial
		}
		size = min(size, left)
		sizes = append(sizes, size)
		left -= size
	}
	return sizes
}

// tooManyFailures applies max_fail: a count ("2") or a share ("25%") of
// the hosts, and max_fail_percent: a share of the batch that just ran.
// Without either, a rolling task stops at its first failure and an
// all-at-once task has nothing left to stop.
func (e *execution) tooManyFailures(t *Task, failures, total, batchFailed, batchSize int) bool {
	if t.MaxFailPercent != nil && float64(batchFailed)*100 > *t.MaxFailPercent*float64(batchSize) {
		return true
	}
	switch {
	case t.MaxFail == "":
		return t.MaxFailPercent == nil
	case strings.HasSuffix(t.MaxFail, "%"):
		pct, _ := strconv.ParseFloat(strings.TrimSuffix(t.MaxFail, "%"), 64)
		return float64(failures)*100 >= pct*float64(total)
	}
	n, _ := strconv.Atoi(t.MaxFail)
	return failures >= n
}

// runHost runs the task on one host and says how it went.
func (e *execution) runHost(ctx context.Context, t *Task, args map[string]any, tg target, index int, multi bool, width int) (res HostResult) {
	start := time.Now()
	res.Host = tg.name
	if e.Remote == nil {
		res.Status, res.Err = "unreachable", errors.New("this gotask has no SSH runner")
		return res
	}
	out, errOut, done := e.console().Host(t.Name, tg.name, width, !multi)
	defer func() {
		res.Duration = time.Since(start)
		end := output.End{Status: res.Status, ExitCode: res.ExitCode, Step: res.Step, Duration: res.Duration}
		if res.Err != nil {
			end.Error, end.Err = rootCause(res.Err), res.Err
		}
		done(end)
	}()
	var r runner.Runner
	if !e.Dry {
		var err error
		if r, err = e.Remote.Connect(ctx, tg.addr); err != nil {
			res.Status, res.Err = "unreachable", &TaskError{Task: t.Name, Host: tg.name, Err: err}
			return res
		}
		if rel, ok := e.Remote.(Releaser); ok {
			defer rel.Release(tg.addr)
		}
	}
	s := &scope{e: e, t: t, args: args, host: tg.name, run: r, stdout: out, stderr: errOut, index: index, multi: multi}
	if !multi {
		s.stdin = e.Stdin
	}
	ctx, unlock, err := e.lockRemote(ctx, t, tg.name, r, errOut)
	if err != nil {
		res.Status, res.Err = "failed", err
		return res
	}
	defer unlock()
	// The tunnels are open for the task's steps on this host, and
	// closed when they end, whatever ended them.
	closeTunnels, err := s.openTunnels(ctx)
	if err == nil {
		defer closeTunnels()
		err = s.runBody(ctx)
	}
	if err != nil {
		res.Status, res.Err, res.Step = "failed", err, s.current
		var ee *runner.ExitError
		if errors.As(err, &ee) {
			res.ExitCode = ee.Code
		}
		if errors.Is(err, runner.ErrOutcomeUnknown) {
			res.Status = "unreachable"
		}
		return res
	}
	res.Status = "ok"
	return res
}

// summary prints one row per host: ok, failed (exit code, step),
// unreachable (reason) or skipped, and how long it took.
func (e *execution) summary(t *Task, results []HostResult) {
	rows := make([]output.Row, len(results))
	for i, r := range results {
		row := output.Row{Host: r.Host, Status: r.Status, Err: r.Err, Duration: r.Duration}
		switch r.Status {
		case "failed":
			var ee *runner.ExitError
			switch {
			case errors.Is(r.Err, context.Canceled):
				row.Detail = "interrupted" // not "exit -1"
			case errors.As(r.Err, &ee) && ee.TimedOut:
				row.Detail = "timed out"
			case errors.As(r.Err, &ee):
				row.Detail = fmt.Sprintf("exit %d", ee.Code)
			case r.Err != nil:
				row.Detail = rootCause(r.Err)
			}
			if r.Step != "" {
				row.Detail += ": " + r.Step
			}
		case "unreachable":
			row.Detail = rootCause(r.Err)
		case "skipped":
			row.Detail = "not started: max_fail reached or interrupted"
		}
		rows[i] = row
	}
	e.console().Summary(t.Name, rows, e.Dry)
}

// rootCause is the innermost message of err, without the task and host
// the summary row already shows.
func rootCause(err error) string {
	var te *TaskError
	for errors.As(err, &te) {
		err = te.Err
	}
	return err.Error() // whole: its end often says what to do
}

// console returns where concurrent output meets.
func (e *execution) console() *output.Console { return e.con }
