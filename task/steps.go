package task

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/gotask/gotask/runner"
)

func (s *scope) runBody(ctx context.Context) error {
	if s.t.Func != nil {
		if s.e.Dry {
			s.note("# %s: Go task; would run its function\n", s.t.Name)
			return nil
		}
		if err := s.t.Func(ctx, &Job{s: s}); err != nil {
			var te *TaskError
			if errors.As(err, &te) {
				return err
			}
			return &TaskError{Task: s.t.Name, Host: s.host, Err: err}
		}
		return nil
	}
	if s.e.Dry {
		s.note("# %s\n", s.t.Name)
	}
	var deferred []*Step
	var err error
	for i := range s.t.Steps {
		st := &s.t.Steps[i]
		if st.Defer {
			if ok, cerr := s.stepIf(ctx, st); cerr != nil || !ok {
				err = cerr
			} else {
				deferred = append(deferred, st)
			}
		} else {
			err = s.step(ctx, st)
		}
		if err != nil {
			break
		}
	}
	// Cleanups run whatever happened, the last registered first; the
	// first failure is the one reported.
	for i := len(deferred) - 1; i >= 0; i-- {
		if derr := s.step(ctx, deferred[i]); derr != nil && err == nil {
			err = derr
		}
	}
	return err
}

// stepIf runs a step's if condition; false (said with -e or -n) skips it.
func (s *scope) stepIf(ctx context.Context, st *Step) (bool, error) {
	if st.If == "" {
		return true, nil
	}
	ok, err := s.condition(ctx, st.If, st.pos.child("if", -1), st, st.Local != "")
	if err == nil && !ok {
		s.skipped(fmt.Sprintf("task %s: step %q", s.t.Name, firstLine(s.t.DescribeStep(st))), st.If)
	}
	return ok, err
}

func (s *scope) step(ctx context.Context, st *Step) error {
	if st.Once && s.index > 0 {
		return nil
	}
	if st.looped() && !s.looping {
		return s.loop(ctx, st)
	}
	return s.once(ctx, st)
}

// once runs a step once (for a looped step: for one item).
func (s *scope) once(ctx context.Context, st *Step) error {
	if !st.Defer { // a cleanup's if was asked when it was reached
		if ok, err := s.stepIf(ctx, st); err != nil || !ok {
			return err
		}
	}
	s.current = firstLine(s.t.DescribeStep(st))
	switch {
	case st.Task != "":
		return s.callTask(ctx, st)
	case st.Put != "" || st.Get != "":
		return s.transfer(ctx, st)
	}
	line, local := st.Run, false
	if st.Local != "" {
		line, local = st.Local, true
	}
	c, err := s.command(line, st.pos, st)
	if err != nil {
		return &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	s.current = firstLine(c.line)
	if local {
		s.current = "local " + s.current
	}
	c.local = local
	if st.Capture == "" {
		_, err = s.exec(ctx, c)
		return err
	}
	return s.capture(ctx, c, st.Capture)
}

func (s *scope) callTask(ctx context.Context, st *Step) error {
	t, err := s.e.Registry.Resolve(st.Task)
	if err != nil {
		return err
	}
	given := make(map[string]string, len(st.With))
	for k, v := range st.With {
		if given[k], err = expand(v, s.lookup); err != nil {
			return &TaskError{Task: s.t.Name, Err: err}
		}
	}
	s.passCaptured(t, given)
	args, err := t.ParseArgs(given)
	if err != nil {
		return err
	}
	return s.e.runTask(ctx, t, args)
}

func (s *scope) transfer(ctx context.Context, st *Step) error {
	src, dst := st.Put, st.To
	if st.Get != "" {
		src = st.Get
	}
	var err error
	if src, err = expand(src, s.lookup); err == nil {
		dst, err = expand(dst, s.lookup)
	}
	if st.Put != "" {
		s.current = "put " + src
	} else {
		s.current = "get " + src
	}
	if err != nil {
		return &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	sudo := s.t.Sudo
	if st.Sudo != "" || st.NoSudo {
		sudo = st.Sudo
	}
	_, err = s.copy(ctx, st.Put != "", src, dst, st.Mode, sudo)
	return err
}

// copy uploads (put) or downloads through the scope's runner.
func (s *scope) copy(ctx context.Context, put bool, src, dst string, mode fs.FileMode, sudo string) (*runner.CopyResult, error) {
	verb := "get"
	if put {
		verb = "put"
	}
	if s.e.Dry {
		fmt.Fprintf(s.stdout, "%s %s %s\n", verb, src, dst)
		return &runner.CopyResult{}, nil
	}
	if s.e.commands != nil {
		return nil, &TaskError{Task: s.t.Name, Host: s.host, Err: fmt.Errorf("%s: a Job made by NewJob copies no files", verb)}
	}
	cp, ok := s.run.(runner.Copier)
	if !ok || s.host == "" {
		return nil, &TaskError{Task: s.t.Name, Err: errNoCopier}
	}
	if put && !filepath.IsAbs(src) {
		src = filepath.Join(s.t.dirIn(s.e.Registry), src)
	}
	if !put && !filepath.IsAbs(dst) {
		dst = filepath.Join(s.t.dirIn(s.e.Registry), dst)
	}
	if sudo != "" {
		return s.sudoCopy(ctx, put, src, dst, mode, sudo)
	}
	opts := &runner.CopyOptions{Mode: mode}
	var res *runner.CopyResult
	var err error
	if put {
		res, err = cp.Put(ctx, src, dst, opts)
	} else {
		res, err = cp.Get(ctx, src, dst, opts)
	}
	if err != nil {
		return res, &TaskError{Task: s.t.Name, Host: s.host, Err: err}
	}
	return res, nil
}

// DescribeStep says what st, one of t's steps, does, for people: "task
// NAME", "put SRC -> DST", "get SRC -> DST", "local: CMD" or the command,
// prefixed "sudo " when it runs through sudo. A command keeps its lines,
// with its placeholders as written. gotask --help TASK lists these, and
// the multi-host summary names a failing step by the first line of one.
func (t *Task) DescribeStep(st *Step) string {
	sudo := ""
	if st.Sudo != "" || t.Sudo != "" && !st.NoSudo {
		sudo = "sudo "
	}
	if st.Defer {
		inner := *st
		inner.Defer = false
		return "defer " + t.DescribeStep(&inner)
	}
	switch {
	case st.Task != "":
		return "task " + st.Task
	case st.Put != "":
		return "put " + st.Put + " -> " + st.To
	case st.Get != "":
		return "get " + st.Get + " -> " + st.To
	case st.Local != "":
		return "local: " + sudo + strings.TrimRight(st.Local, "\n")
	}
	return sudo + strings.TrimRight(st.Run, "\n")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
