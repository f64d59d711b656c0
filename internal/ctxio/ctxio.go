// Package ctxio makes long copies stop when their context is done: a
// read or write that begins after ctx is done fails with ctx's error.
// A call already under way is not interrupted; pieces are small, so the
// copy stops within one of them.
package ctxio

import (
	"context"
	"io"
)

// Reader reads R until Ctx is done. Being a plain io.Reader, it also
// hides an *os.File's WriteTo, so that io.CopyBuffer uses the buffer it
// is given.
type Reader struct {
	Ctx context.Context
	R   io.Reader
}

// Read reads from R, or returns Ctx's error once Ctx is done.
func (r Reader) Read(p []byte) (int, error) {
	if err := r.Ctx.Err(); err != nil {
		return 0, err
	}
	return r.R.Read(p)
}

// Writer writes to W until Ctx is done.
type Writer struct {
	Ctx context.Context
	W   io.Writer
}

// Write writes to W, or returns Ctx's error once Ctx is done.
func (w Writer) Write(p []byte) (int, error) {
	if err := w.Ctx.Err(); err != nil {
		return 0, err
	}
	return w.W.Write(p)
}
