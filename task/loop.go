package task

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/runner"
)

// loop reads a step's for key: a list of items, or { sh = "command" }.
func (c *converter) loop(at pos, task string, raw *rawStep, s *Step) {
	p := at.child("for", -1)
	switch v := raw.For.(type) {
	case nil:
	case []any:
		s.For = make([]string, 0, len(v))
		for i, item := range v {
			str, ok := scalar(item)
			if !ok {
				c.fail(p.index(i), "task %q: a for item must be a string, number or boolean", task)
			}
			s.For = append(s.For, str)
		}
		if len(v) == 0 {
			c.fail(p, "task %q: for lists no items; list some, or remove it", task)
		}
	case map[string]any:
		for k, val := range v {
			str, ok := val.(string)
			if k != "sh" || !ok || str == "" {
				c.fail(p.child(k, -1), "task %q: for takes a list or { sh = \"command printing one item a line\" }", task)
				continue
			}
			s.ForSh = str
		}
	default:
		c.fail(p, "task %q: for takes a list or { sh = \"command printing one item a line\" }", task)
	}
	switch {
	case raw.Parallel < 0:
		c.fail(at.child("parallel", -1), "task %q: parallel must not be negative", task)
	case raw.Parallel > 0 && raw.For == nil:
		c.fail(at.child("parallel", -1), "task %q: parallel belongs to a step with for = [...]", task)
	}
	s.Parallel = raw.Parallel
}

// looped reports whether the step runs once per item.
func (st *Step) looped() bool { return st.For != nil || st.ForSh != "" }

// loopOutputKey marks a context whose tasks write to a parallel loop's
// item: the loopOutput's prefixed writers.
type loopOutputKey struct{}

type loopOutput struct{ stdout, stderr io.Writer }

// items returns the items of a looped step: its list, or the lines its
// sh command prints, run where the step runs (in a dry run: none).
func (s *scope) items(ctx context.Context, st *Step) ([]string, error) {
	if st.ForSh == "" {
		return st.For, nil
	}
	c, err := s.command(st.ForSh, st.pos.child("for", -1), st)
	if err != nil {
		return nil, &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	off := false
	c.pty, c.hide, c.capture, c.retries, c.warn = &off, true, runner.DefaultCapture, 0, false
	res, err := s.exec(ctx, c)
	if err != nil || res == nil {
		return nil, err
	}
	if res.Truncated {
		return nil, &TaskError{Task: s.t.Name, Host: s.host,
			Err: fmt.Errorf("for: %q printed more than %d bytes of items", st.ForSh, runner.DefaultCapture)}
	}
	var items []string
	for line := range strings.SplitSeq(string(res.Stdout), "\n") {
		if line = strings.TrimSuffix(line, "\r"); line != "" {
			items = append(items, line)
		}
	}
	return items, nil
}

// loop runs a looped step once per item: one after another, stopping at
// the first failure, or up to st.Parallel at once, each with its output
// prefixed by the item, and a summary of the failures once all ran.
func (s *scope) loop(ctx context.Context, st *Step) error {
	items, err := s.items(ctx, st)
	if err != nil {
		return err
	}
	if st.Parallel <= 1 {
		for _, it := range items {
			one := s.withItem(it)
			if err := one.once(ctx, st); err != nil {
				return err
			}
		}
		return nil
	}
	con := s.e.console()
	labels := make([]string, len(items))
	width := 0
	for i, it := range items {
		// The item shows in the prefix: no terminal control in it.
		labels[i] = string(output.Clean(nil, []byte(it), false))
		width = max(width, len(labels[i]))
	}
	errs := make([]error, len(items))
	sem := make(chan struct{}, st.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex // the items' writes to a host's writers
	for i, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, errOut, done := s.itemOutput(con, labels[i], width, &mu)
			one := s.withItem(it)
			one.stdin, one.stdout, one.stderr = nil, out, errOut
			ictx := context.WithValue(withConcurrent(ctx), loopOutputKey{}, loopOutput{out, errOut})
			errs[i] = one.once(ictx, st)
			status := "ok"
			if errs[i] != nil {
				status = "failed"
			}
			done(output.End{Status: status, Err: errs[i]})
		}()
	}
	wg.Wait()
	var failed []string
	var b strings.Builder
	for i, err := range errs {
		if err == nil {
			continue
		}
		failed = append(failed, labels[i])
		var te *TaskError
		if errors.As(err, &te) && te.Err != nil {
			err = te.Err
		}
		fmt.Fprintf(&b, "  [%s] %s\n", labels[i], strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if len(failed) == 0 {
		return nil
	}
	fmt.Fprintf(s.stderr, "for %s: %d of %d items failed\n%s", strings.Join(labels, ", "), len(failed), len(items), b.String())
	return &TaskError{Task: s.t.Name, Host: s.host,
		Err: fmt.Errorf("%d of %d items failed: %s", len(failed), len(items), strings.Join(failed, ", "))}
}

// itemOutput returns the writers of one item of a parallel loop, whose
// lines are prefixed with label, and what to call when it is done. On
// this machine they are the console's, as a host's; on a host they write
// into the host's own writers, so that each line shows the host first.
func (s *scope) itemOutput(con *output.Console, label string, width int, mu *sync.Mutex) (stdout, stderr io.Writer, done func(output.End)) {
	if s.host == "" {
		return con.Host(s.t.Name, label, width, false)
	}
	to := func(w io.Writer) func([]byte) {
		return func(b []byte) {
			mu.Lock()
			defer mu.Unlock()
			_, _ = w.Write(b)
		}
	}
	out, errOut := output.PrefixLines(to(s.stdout), label, width), output.PrefixLines(to(s.stderr), label, width)
	return out, errOut, func(output.End) { out.Flush(); errOut.Flush() }
}

// withItem returns a copy of s whose {{.item}} is item.
func (s *scope) withItem(item string) *scope {
	c := *s
	c.item, c.looping, c.flush = item, true, nil
	return &c
}
