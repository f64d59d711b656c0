package fingerprint

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gotask/gotask/internal/ctxio"
)

// hashFiles fills in the sums of files[i] for each i in todo, reading
// the files on runtime.GOMAXPROCS(0) goroutines. A file that has vanished
// since the walk is marked gone.
func hashFiles(ctx context.Context, dir string, files []entry, todo []int) error {
	if len(todo) == 0 {
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		errOnce  sync.Once
		failed   atomic.Bool
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := sha256.New()
			buf := make([]byte, 64<<10)
			for !failed.Load() {
				n := int(next.Add(1)) - 1
				if n >= len(todo) {
					return
				}
				if n%64 == 0 && ctx.Err() != nil {
					errOnce.Do(func() { firstErr = ctx.Err() })
					failed.Store(true)
					return
				}
				e := &files[todo[n]]
				if err := hashFile(ctx, h, buf, filepath.Join(dir, filepath.FromSlash(e.path)), e); err != nil {
					errOnce.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// hashFile hashes one file into e.sum, using h and buf as scratch. It
// stops with ctx's error between reads, so that Ctrl-C does not wait for
// a large file to be read whole.
func hashFile(ctx context.Context, h hashWriter, buf []byte, name string, e *entry) error {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			e.gone = true
			return nil
		}
		return fmt.Errorf("hashing source file: %w", err)
	}
	defer f.Close()
	h.Reset()
	if _, err := io.CopyBuffer(h, ctxio.Reader{Ctx: ctx, R: f}, buf); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("hashing source file: %w", err)
	}
	h.Sum(e.sum[:0])
	e.known = true
	return nil
}

// hashWriter is the part of hash.Hash that hashFile uses.
type hashWriter interface {
	io.Writer
	Reset()
	Sum([]byte) []byte
}
