package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Mode says how the output of several hosts is shown.
type Mode string

// The modes.
const (
	// Prefixed writes each line as it comes, as "[host] line"; lines of
	// different hosts never mix mid-line. It is the zero value.
	Prefixed Mode = ""
	// Grouped writes each host's output as one block under a heading
	// when the host is done, each line still with its prefix.
	Grouped Mode = "grouped"
	// JSON writes one JSON object per line for every output line and
	// every finished host, for CI systems.
	JSON Mode = "json"
)

// Options configure a Console. The zero value is prefixed output
// without colour or progress line, for streams that are not terminals.
type Options struct {
	// Mode is how several hosts' output is shown.
	Mode Mode
	// Color and ErrColor say that stdout and stderr take colour: host
	// prefixes are painted and hosts' own colours kept. ErrColor also
	// paints the summary. Set each only when its stream is a terminal.
	Color, ErrColor bool
	// Progress draws a progress line at the bottom of stderr while
	// several hosts run. Set it only when stderr is a terminal.
	Progress bool
	// Redact, if set, masks secrets in the text of JSON events before
	// they are encoded: JSON's escapes would hide a secret from a mask
	// applied to the encoded stream. Nil masks nothing.
	Redact func([]byte) []byte
	// Hint, if set, returns what a user can do about a host's error
	// (a flag to pass, say), or "". The summary adds it to the row of
	// a host that failed with Row.Err. Nil adds nothing.
	Hint func(error) string
}

// Console is where the output of hosts and tasks running at once meets
// a person: it writes whole lines under one lock, each with the prefix
// of the host that printed it, keeps the progress line at the bottom of
// a terminal, holds grouped output until a host is done, and turns
// output into JSON events when asked. It is safe for concurrent use.
type Console struct {
	mu   sync.Mutex
	out  io.Writer
	err  io.Writer
	opts Options

	total, running, finished, failed int
	shown                            bool // the progress line is on the screen
}

// New returns a Console writing to stdout and stderr; nil discards.
func New(stdout, stderr io.Writer, opts Options) *Console {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	return &Console{out: stdout, err: stderr, opts: opts}
}

// Mode returns the Console's mode.
func (c *Console) Mode() Mode { return c.opts.Mode }

// write writes b whole, keeping the progress line below it.
func (c *Console) write(w io.Writer, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
	_, _ = w.Write(b)
	c.drawLocked()
}

// to returns a function that writes whole blocks to w.
func (c *Console) to(w io.Writer) func([]byte) {
	return func(b []byte) { c.write(w, b) }
}

// writeBlock writes head and then all that sp holds to w as one block:
// no other output comes between.
func (c *Console) writeBlock(w io.Writer, head string, sp *spool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
	_, _ = io.WriteString(w, head)
	_ = sp.writeTo(w)
	c.drawLocked()
}

// Lines returns a writer of whole lines to w (the Console's stdout or
// stderr, or a writer wrapping one), for a task's output while other
// tasks run: lines pass as they are, without a prefix.
func (c *Console) Lines(w io.Writer) *LineWriter {
	return &LineWriter{out: c.to(w)}
}

// StartProgress starts a progress line for a run of total hosts.
func (c *Console) StartProgress(total int) {
	c.mu.Lock()
	c.total, c.running, c.finished, c.failed = total, 0, 0, 0
	c.drawLocked()
	c.mu.Unlock()
}

// HostStarted counts a host that started.
func (c *Console) HostStarted() { c.progress(+1, false) }

// HostDone counts a host that ended, failed or not.
func (c *Console) HostDone(failed bool) { c.progress(-1, failed) }

func (c *Console) progress(running int, failed bool) {
	c.mu.Lock()
	c.running += running
	if running < 0 {
		c.finished++
	}
	if failed {
		c.failed++
	}
	c.clearLocked()
	c.drawLocked()
	c.mu.Unlock()
}

// EndProgress removes the progress line.
func (c *Console) EndProgress() {
	c.mu.Lock()
	c.clearLocked()
	c.total = 0
	c.mu.Unlock()
}

func (c *Console) clearLocked() {
	if c.shown {
		_, _ = io.WriteString(c.err, "\r\x1b[K")
		c.shown = false
	}
}

func (c *Console) drawLocked() {
	if !c.opts.Progress || c.total < 2 {
		return
	}
	line := fmt.Sprintf("[%d/%d done, %d running", c.finished, c.total, c.running)
	if c.failed > 0 {
		line += ", " + Paint(c.opts.ErrColor, Red, fmt.Sprintf("%d failed", c.failed))
	}
	_, _ = io.WriteString(c.err, line+"]")
	c.shown = true
}

// End is how a task ended on one host, as its output reports it.
type End struct {
	Status   string // "ok", "failed", "unreachable" or "skipped"
	ExitCode int    // of the failing command, when there was one
	Step     string // the failing step, when known
	Error    string // why it failed, when it did
	Err      error  // the error behind Error, for Options.Hint; may be nil
	Duration time.Duration
}

// Host returns the stdout and stderr a host's commands write to, and a
// function to call with how the host ended when it is done. alone says
// the host runs by itself: its output passes through as it is, byte for
// byte (in JSON mode it still becomes events). width is the longest
// host name of the run, to align the prefixes.
//
// With several hosts, every line a person sees starts with the prefix
// of the host that printed it, in live and in grouped output alike, and
// Clean makes what follows it harmless; JSON events carry the host in a
// field of their own.
func (c *Console) Host(task, host string, width int, alone bool) (stdout, stderr io.Writer, done func(End)) {
	switch {
	case c.opts.Mode == JSON:
		base := event{Type: "output", Task: task, Host: host}
		out, errOut := c.events(base, "stdout"), c.events(base, "stderr")
		return out, errOut, func(r End) {
			out.Flush()
			errOut.Flush()
			c.emit(event{Type: "host", Task: task, Host: host, Status: r.Status, ExitCode: r.ExitCode,
				Step: r.Step, Error: c.withHint(r.Error, r.Err), DurationMS: r.Duration.Milliseconds()})
		}
	case alone:
		return c.out, c.err, func(End) {}
	}
	plain := fmt.Sprintf("[%s]%s ", host, strings.Repeat(" ", max(0, width-len(host))))
	prefix := func(color bool) []byte {
		return []byte(Paint(color, hostStyle(host), plain))
	}
	if c.opts.Mode == Grouped {
		sp := &spool{}
		out := &LineWriter{out: sp.write, prefix: prefix(c.opts.Color), color: c.opts.Color}
		errOut := &LineWriter{out: sp.write, prefix: prefix(c.opts.Color), color: c.opts.Color}
		return out, errOut, func(r End) {
			out.Flush()
			errOut.Flush()
			c.writeBlock(c.out, fmt.Sprintf("── %s (%s) ──\n", host, r.Status), sp)
		}
	}
	out := &LineWriter{out: c.to(c.out), prefix: prefix(c.opts.Color), color: c.opts.Color}
	errOut := &LineWriter{out: c.to(c.err), prefix: prefix(c.opts.ErrColor), color: c.opts.ErrColor}
	return out, errOut, func(End) { out.Flush(); errOut.Flush() }
}

// Row is one host's line in a summary.
type Row struct {
	Host     string
	Status   string // "ok", "failed", "unreachable" or "skipped"
	Detail   string // why it failed or was skipped, in a few words
	Err      error  // the error behind Detail, for Options.Hint; may be nil
	Duration time.Duration
}

// Summary prints, on stderr, one row per host after a run of several:
// ok, failed, unreachable or skipped with the detail, and how long it
// took. A dry run says each host would run the task. In JSON mode it
// prints nothing: the host events said it.
func (c *Console) Summary(task string, rows []Row, dry bool) {
	if c.opts.Mode == JSON {
		return
	}
	width := len("host")
	ok := 0
	for _, r := range rows {
		width = max(width, len(r.Host))
		if r.Status == "ok" {
			ok++
		}
	}
	var b strings.Builder
	if dry {
		fmt.Fprintf(&b, "\ntask %s: would run on %d hosts (dry run: nothing ran)\n", task, ok)
	} else {
		fmt.Fprintf(&b, "\ntask %s: %d of %d hosts ok\n", task, ok, len(rows))
	}
	color := c.opts.ErrColor
	for _, r := range rows {
		if dry && r.Status == "ok" {
			fmt.Fprintf(&b, "  %-*s  would run\n", width, r.Host)
			continue
		}
		status := r.Status
		switch r.Status {
		case "ok":
			status = Paint(color, Green, status)
		case "failed", "unreachable":
			status = Paint(color, Red, status)
		}
		detail := c.withHint(r.Detail, r.Err)
		if detail != "" {
			// The detail may hold what a host or its SSH server sent.
			detail = strings.ReplaceAll(detail, "\n", "; ")
			status += " (" + string(Clean(nil, []byte(detail), false)) + ")"
		}
		dur := ""
		if r.Duration > 0 {
			dur = r.Duration.Round(time.Millisecond).String()
		}
		fmt.Fprintf(&b, "  %-*s  %-8s  %s\n", width, r.Host, dur, status)
	}
	c.write(c.err, []byte(b.String()))
}

// event is one line of JSON output.
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

func (c *Console) emit(ev event) {
	if c.opts.Redact != nil {
		for _, f := range []*string{&ev.Line, &ev.Error, &ev.Step} {
			*f = string(c.opts.Redact([]byte(*f)))
		}
	}
	b, _ := json.Marshal(ev) // plain data: cannot fail
	c.write(c.out, append(b, '\n'))
}

// events returns a writer that turns a stream into one event per line.
func (c *Console) events(base event, stream string) *LineWriter {
	return &LineWriter{emitLine: func(line []byte) {
		e := base
		e.Stream, e.Line = stream, strings.TrimRight(string(line), "\r\n")
		c.emit(e)
	}}
}

// withHint is msg followed by Options.Hint's hint for err, if any.
func (c *Console) withHint(msg string, err error) string {
	if err != nil && c.opts.Hint != nil {
		if h := c.opts.Hint(err); h != "" {
			return msg + "; " + h
		}
	}
	return msg
}
