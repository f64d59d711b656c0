package runner

import (
	"context"
	"io/fs"
)

// A Copier moves files and directory trees between this machine and the
// place a runner runs commands. runner/remote implements it over SFTP.
//
// Put copies the local path src to dst where the runner runs; Get copies
// the runner's src to the local path dst. Both write to a temporary name
// beside dst and rename it into place, so a failed transfer never leaves a
// half-written file at dst, and both skip a file whose destination already
// has the same content.
type Copier interface {
	Put(ctx context.Context, src, dst string, opts *CopyOptions) (*CopyResult, error)
	Get(ctx context.Context, src, dst string, opts *CopyOptions) (*CopyResult, error)
}

// CopyOptions tunes a Put or Get. A nil *CopyOptions means the defaults.
type CopyOptions struct {
	// Mode sets the permission bits of every copied file. Zero preserves
	// the source's bits.
	Mode fs.FileMode
}

// CopyResult says what a Put or Get did.
type CopyResult struct {
	Files     int   // files written
	Unchanged int   // files skipped because the destination already matched
	Bytes     int64 // bytes written
}
