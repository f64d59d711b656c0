//go:build unix

package sshconfig

import (
	"io/fs"
	"os"
	"syscall"
)

// safeConfigPerm reports whether ssh would accept a configuration file
// with these attributes: owned by the user or root, and writable by no
// one else.
func safeConfigPerm(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	return (st.Uid == 0 || int(st.Uid) == os.Getuid()) && fi.Mode().Perm()&0o022 == 0
}
