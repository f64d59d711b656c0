package fingerprint

import (
	"os"

	"golang.org/x/sys/unix"
)

// statAt stats the entry name of the open directory dir (whose path is
// dirPath) with fstatat(2), which spares the kernel a walk of the whole
// path for each of the thousands of files a check looks at. follow says
// whether to follow a symbolic link.
func statAt(dir *os.File, dirPath, name string, follow bool) (fileStat, error) {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if follow {
		flags = 0
	}
	var st unix.Stat_t
	var err error
	for {
		err = unix.Fstatat(int(dir.Fd()), name, &st, flags)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fileStat{}, &os.PathError{Op: "stat", Path: dirPath + "/" + name, Err: err}
	}
	return fileStat{
		size:    st.Size,
		mtime:   st.Mtim.Nano(),
		ctime:   st.Ctim.Nano(),
		ino:     st.Ino,
		regular: st.Mode&unix.S_IFMT == unix.S_IFREG,
	}, nil
}
