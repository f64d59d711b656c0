package remote

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// Temporary files. A transfer writes each file to a hidden name beside
// its destination and renames it into place once verified:
//
//	.BASE.gotask-MACHINE-PID-RANDOM.tmp
//
// MACHINE is a hash of the name of the machine gotask runs on (not the
// host written to) and PID the process id of that gotask. A transfer
// that is killed leaves its temporary file behind; the next transfer
// into the same directory from this machine removes it once that process
// has ended. One from another machine, or of an older gotask, is removed
// when it has not been written to for staleAge. A temporary file of a
// transfer still running is never removed.

// staleAge is how long a temporary file must go untouched before any
// transfer removes it, whoever made it.
const staleAge = 24 * time.Hour

// tempMarker comes between the base name and the rest.
const tempMarker = ".gotask-"

// tempName returns a new temporary name for a transfer to base.
func tempName(base string) string {
	return tempNameFor(base, machineTag(), os.Getpid())
}

func tempNameFor(base, machine string, pid int) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "." + base + tempMarker + machine + "-" + strconv.Itoa(pid) + "-" + hex.EncodeToString(b[:]) + ".tmp"
}

// machineTag names this machine in temporary names without showing its
// name.
func machineTag() string {
	name, _ := os.Hostname()
	sum := sha256.Sum256([]byte("gotask temporary files\x00" + name))
	return hex.EncodeToString(sum[:4])
}

// staleTemp reports whether the directory entry name, last modified at
// mtime, is a temporary file that no transfer will finish: see above.
func staleTemp(name string, mtime, now time.Time, machine string) bool {
	rest, ok := strings.CutSuffix(name, ".tmp")
	i := strings.LastIndex(rest, tempMarker)
	if !ok || !strings.HasPrefix(name, ".") || i < 1 {
		return false
	}
	if now.Sub(mtime) > staleAge {
		return true
	}
	f := strings.Split(rest[i+len(tempMarker):], "-")
	if len(f) != 3 || f[0] != machine {
		return false
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return !processAlive(pid)
}

// staleTemps returns the names of the stale temporary files among the
// entries of a directory.
func staleTemps(entries []fs.FileInfo) []string {
	now, machine := time.Now(), machineTag()
	var names []string
	for _, e := range entries {
		if e.Mode().IsRegular() && staleTemp(e.Name(), e.ModTime(), now, machine) {
			names = append(names, e.Name())
		}
	}
	return names
}
