package task

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotask/gotask/responder"
	"github.com/gotask/gotask/runner"
)

// Output says how the output of several hosts is shown.
type Output string

// The output modes.
const (
	// Prefixed writes each line as it comes, as "[host] line"; lines of
	// different hosts never mix mid-line. It is the zero value.
	Prefixed Output = ""
	// Grouped writes each host's output as one block when it finishes.
	Grouped Output = "grouped"
	// Events writes one JSON object per line for every output line and
	// every finished host, for CI systems.
	Events Output = "json"
)

// DefaultParallel is how many hosts run at once when Executor.Parallel is
// zero.
const DefaultParallel = 32

// target is one host a task runs on.
type target struct {
	name string // as given: the alias or host string, for {{.host}} and output
	addr string // what to connect to: name with its group's user and port
}

// targets resolves the hosts a task runs on: override (the CLI's -H) or
// the task's own hosts, with groups expanded and --only/--exclude applied.
func (e *Executor) targets(t *Task, override []string) ([]target, error) {
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
		return nil, &ArgError{Task: t.Name, Err: fmt.Errorf("no hosts left to run on after --only/--exclude (from %s)", strings.Join(list, ", "))}
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

// HostResult is how a task ended on one host.
type HostResult struct {
	Host     string
	Status   string // "ok", "failed", "unreachable" or "skipped"
	ExitCode int    // of the failing command, when there was one
	Step     string // the failing step, when known
	Err      error
	Duration time.Duration
}

// HostsError reports a task that failed on some of its hosts. It unwraps
// to the first failure, so errors.As finds its *runner.ExitError.
type HostsError struct {
	Task    string
	Results []HostResult
	first   error
}

func (e *HostsError) Error() string {
	counts := map[string]int{}
	for _, r := range e.Results {
		counts[r.Status]++
	}
	var parts []string
	for _, s := range []string{"failed", "unreachable", "skipped"} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return fmt.Sprintf("task %q: %s of %d hosts", e.Task, strings.Join(parts, ", "), len(e.Results))
}

func (e *HostsError) Unwrap() error { return e.first }

// fanOut runs the task on every target: in rolling batches of t.Serial
// hosts, or all at once, never more than Parallel at a time.
func (e *Executor) fanOut(ctx context.Context, t *Task, args map[string]any, targets []target) error {
	parallel := e.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	batch := len(targets)
	if t.Serial > 0 {
		batch = t.Serial
	}
	con := e.console()
	multi := len(targets) > 1
	width := 0
	for _, tg := range targets {
		width = max(width, len(tg.name))
	}
	results := make([]HostResult, len(targets))
	for i, tg := range targets {
		results[i] = HostResult{Host: tg.name, Status: "skipped"}
	}
	con.startProgress(len(targets))
	failures := 0
	sem := make(chan struct{}, parallel)
	stopped := false
	for start := 0; start < len(targets) && !stopped; start += batch {
		end := min(start+batch, len(targets))
		var wg sync.WaitGroup
		for i := start; i < end; i++ {
			// Take the slot here, not in the goroutine, so that hosts
			// start in the order given (-P 1 runs them in that order).
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = HostResult{Host: targets[i].name, Status: "failed", Err: ctx.Err()}
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				con.progress(+1, 0)
				results[i] = e.runHost(ctx, t, args, targets[i], i, multi, width)
				con.progress(-1, boolInt(results[i].Status != "ok"))
			}()
		}
		wg.Wait()
		for i := start; i < end; i++ {
			if results[i].Status != "ok" {
				failures++
			}
		}
		if failures > 0 && end < len(targets) && (ctx.Err() != nil || e.tooManyFailures(t, failures, len(targets))) {
			stopped = true
		}
	}
	con.endProgress()
	if multi {
		e.summary(t, results)
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

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tooManyFailures applies max_fail: a count ("2") or a share ("25%") of
// the hosts. Without it, a rolling task stops at its first failure and
// an all-at-once task has nothing left to stop.
func (e *Executor) tooManyFailures(t *Task, failures, total int) bool {
	switch {
	case t.MaxFail == "":
		return true
	case strings.HasSuffix(t.MaxFail, "%"):
		pct, _ := strconv.ParseFloat(strings.TrimSuffix(t.MaxFail, "%"), 64)
		return float64(failures)*100 >= pct*float64(total)
	}
	n, _ := strconv.Atoi(t.MaxFail)
	return failures >= n
}

// runHost runs the task on one host and says how it went.
func (e *Executor) runHost(ctx context.Context, t *Task, args map[string]any, tg target, index int, multi bool, width int) (res HostResult) {
	start := time.Now()
	res.Host = tg.name
	if e.Connect == nil {
		res.Status, res.Err = "unreachable", errors.New("this gotask has no SSH runner")
		return res
	}
	con := e.console()
	out, errOut, done := con.hostWriters(e, t.Name, tg.name, multi, width)
	defer func() {
		res.Duration = time.Since(start)
		done(&res)
	}()
	var r runner.Runner
	if !e.Dry {
		var err error
		if r, err = e.Connect(ctx, tg.addr); err != nil {
			res.Status, res.Err = "unreachable", &TaskError{Task: t.Name, Host: tg.name, Err: err}
			return res
		}
	}
	s := &scope{e: e, t: t, args: args, host: tg.name, run: r, stdout: out, stderr: errOut, index: index}
	if !multi {
		s.stdin = e.Stdin
	}
	if err := s.runBody(ctx); err != nil {
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
func (e *Executor) summary(t *Task, results []HostResult) {
	con := e.console()
	if con.events != nil {
		return // the host events already said it
	}
	width := len("host")
	for _, r := range results {
		width = max(width, len(r.Host))
	}
	var b strings.Builder
	ok := 0
	for _, r := range results {
		if r.Status == "ok" {
			ok++
		}
	}
	fmt.Fprintf(&b, "\ntask %s: %d of %d hosts ok\n", t.Name, ok, len(results))
	for _, r := range results {
		status := r.Status
		switch r.Status {
		case "ok":
			status = con.paint(colorGreen, status)
		case "failed":
			detail := ""
			var ee *runner.ExitError
			switch {
			case errors.Is(r.Err, context.Canceled):
				detail = "interrupted" // not "exit -1"
			case errors.As(r.Err, &ee) && ee.TimedOut:
				detail = "timed out"
			case errors.As(r.Err, &ee):
				detail = fmt.Sprintf("exit %d", ee.Code)
			case r.Err != nil:
				detail = rootCause(r.Err)
			}
			if r.Step != "" {
				detail += ": " + r.Step
			}
			status = con.paint(colorRed, "failed") + " (" + detail + ")"
		case "unreachable":
			status = con.paint(colorRed, "unreachable") + " (" + rootCause(r.Err) + ")"
		case "skipped":
			status = "skipped (not started: max_fail reached or interrupted)"
		}
		dur := ""
		if r.Duration > 0 {
			dur = r.Duration.Round(time.Millisecond).String()
		}
		fmt.Fprintf(&b, "  %-*s  %-8s  %s\n", width, r.Host, dur, status)
	}
	con.write(con.err, []byte(b.String()))
}

// rootCause is the innermost message of err, without the task and host
// the summary row already shows.
func rootCause(err error) string {
	var te *TaskError
	for errors.As(err, &te) {
		err = te.Err
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:117] + "..."
	}
	return msg
}

// console is where several hosts' output meets: it writes whole lines
// under one lock, keeps the progress line at the bottom of a terminal,
// and turns output into JSON events when asked.
type console struct {
	mu       sync.Mutex
	out, err io.Writer
	events   io.Writer
	color    bool
	drawBar  bool               // draw a progress line on err
	secrets  *responder.Secrets // masked in events before JSON escapes them

	total, running, finished, failed int
	shown                            bool
}

const (
	colorRed   = "\x1b[31m"
	colorGreen = "\x1b[32m"
)

var hostColors = []string{"\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[34m", "\x1b[32m", "\x1b[96m", "\x1b[93m", "\x1b[95m"}

func (e *Executor) console() *console {
	e.conOnce.Do(func() {
		e.con = &console{out: orDiscard(e.Stdout), err: orDiscard(e.Stderr), color: e.Color, drawBar: e.Progress, secrets: e.Secrets}
		if e.Output == Events {
			e.con.events = orDiscard(e.Stdout)
		}
	})
	return e.con
}

func (c *console) paint(code, s string) string {
	if !c.color {
		return s
	}
	return code + s + "\x1b[0m"
}

// write writes b whole, keeping the progress line below it.
func (c *console) write(w io.Writer, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
	_, _ = w.Write(b)
	c.drawLocked()
}

func (c *console) startProgress(total int) {
	c.mu.Lock()
	c.total, c.running, c.finished, c.failed = total, 0, 0, 0
	c.drawLocked()
	c.mu.Unlock()
}

func (c *console) progress(running, failed int) {
	c.mu.Lock()
	c.running += running
	if running < 0 {
		c.finished++
	}
	c.failed += failed
	c.clearLocked()
	c.drawLocked()
	c.mu.Unlock()
}

func (c *console) endProgress() {
	c.mu.Lock()
	c.clearLocked()
	c.total = 0
	c.mu.Unlock()
}

func (c *console) clearLocked() {
	if c.shown {
		_, _ = io.WriteString(c.err, "\r\x1b[K")
		c.shown = false
	}
}

func (c *console) drawLocked() {
	if !c.drawBar || c.total < 2 {
		return
	}
	line := fmt.Sprintf("[%d/%d done, %d running", c.finished, c.total, c.running)
	if c.failed > 0 {
		line += ", " + c.paint(colorRed, fmt.Sprintf("%d failed", c.failed))
	}
	_, _ = io.WriteString(c.err, line+"]")
	c.shown = true
}

// hostWriters returns the stdout and stderr a host's commands write to,
// and a function to call when the host is done.
func (c *console) hostWriters(e *Executor, taskName, host string, multi bool, width int) (io.Writer, io.Writer, func(*HostResult)) {
	switch {
	case c.events != nil:
		ev := &eventWriter{c: c, base: event{Type: "output", Task: taskName, Host: host}}
		out, errOut := ev.stream("stdout"), ev.stream("stderr")
		return out, errOut, func(r *HostResult) {
			out.Flush()
			errOut.Flush()
			end := event{Type: "host", Task: taskName, Host: host, Status: r.Status, ExitCode: r.ExitCode,
				Step: r.Step, DurationMS: r.Duration.Milliseconds()}
			if r.Err != nil {
				end.Error = rootCause(r.Err)
			}
			c.emit(end)
		}
	case !multi:
		return orDiscard(e.Stdout), orDiscard(e.Stderr), func(*HostResult) {}
	case e.Output == Grouped:
		var buf bytes.Buffer
		w := &lockedBuffer{buf: &buf}
		return w, w, func(r *HostResult) {
			head := fmt.Sprintf("── %s (%s) ──\n", host, r.Status)
			body := buf.Bytes()
			if len(body) > 0 && body[len(body)-1] != '\n' {
				body = append(body, '\n')
			}
			c.write(c.out, append([]byte(head), body...))
		}
	}
	prefix := fmt.Sprintf("[%s]%s ", host, strings.Repeat(" ", width-len(host)))
	if c.color {
		prefix = hostColors[hashString(host)%len(hostColors)] + prefix + "\x1b[0m"
	}
	out := &lineWriter{c: c, w: c.out, prefix: []byte(prefix)}
	errOut := &lineWriter{c: c, w: c.err, prefix: []byte(prefix)}
	return out, errOut, func(*HostResult) { out.Flush(); errOut.Flush() }
}

func hashString(s string) int {
	h := 0
	for i := 0; i < len(s); i++ {
		h = h*31 + int(s[i])
	}
	if h < 0 {
		h = -h
	}
	return h
}

// lockedBuffer is a buffer two streams may write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// event is one line of --output json.
type event struct {
	Type       string `json:"type"` // "output" or "host"
	Task       string `json:"task"`
	Host       string `json:"host"`
	Stream     string `json:"stream,omitempty"`
	Line       string `json:"line,omitempty"`
	Status     string `json:"status,omitempty"`
	ExitCode   int    `json:"exit_code,omitempty"`
	Step       string `json:"step,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
}

func (c *console) emit(ev event) {
	// Masked before encoding: JSON's escapes would hide a secret from
	// the masking of the stream.
	for _, f := range []*string{&ev.Line, &ev.Error, &ev.Step} {
		*f = string(c.secrets.Redact([]byte(*f)))
	}
	b, _ := json.Marshal(ev) // plain data: cannot fail
	c.write(c.events, append(b, '\n'))
}

// eventWriter turns a host's output into one event per line.
type eventWriter struct {
	c    *console
	base event
}

func (ev *eventWriter) stream(name string) *lineWriter {
	return &lineWriter{c: ev.c, emitLine: func(line []byte) {
		e := ev.base
		e.Stream, e.Line = name, strings.TrimRight(string(line), "\r\n")
		ev.c.emit(e)
	}}
}
