//go:build !linux

package fingerprint

import (
	"os"
	"path/filepath"
)

// statAt stats the entry name of the directory dirPath. This portable
// version has no inode number or change time, so the fast path compares
// size and modification time only.
func statAt(_ *os.File, dirPath, name string, follow bool) (fileStat, error) {
	stat := os.Lstat
	if follow {
		stat = os.Stat
	}
	fi, err := stat(filepath.Join(dirPath, name))
	if err != nil {
		return fileStat{}, err
	}
	return fileStat{
		size:    fi.Size(),
		mtime:   fi.ModTime().UnixNano(),
		regular: fi.Mode().IsRegular(),
	}, nil
}
