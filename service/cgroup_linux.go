package service

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroup is a cgroup v2 directory that holds one process of an instance
// and everything it starts, setsid'd children included: signalling its
// members and writing cgroup.kill reach what a process group cannot.
type cgroup struct {
	dir string
	fd  int // the open directory, for clone3's CLONE_INTO_CGROUP
}

// cgroupParent returns the cgroup v2 directory gotask runs in, where
// instances' cgroups are made, or "" when there is none it can write
// to (cgroup v1 only, a read-only mount, not root).
func cgroupParent() string {
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	var root string
	for line := range strings.Lines(string(mounts)) {
		// ... mount-point ... - fstype source options
		pre, post, ok := strings.Cut(line, " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		if f := strings.Fields(pre); len(f) >= 5 {
			root = f[4]
			break
		}
	}
	if root == "" {
		return ""
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(self)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			dir := filepath.Join(root, filepath.Clean("/"+rest))
			if syscall.Access(dir, 2 /* W_OK */) != nil {
				return ""
			}
			return dir
		}
	}
	return ""
}

// newCgroup makes a cgroup named name under parent.
func newCgroup(parent, name string) (*cgroup, error) {
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
		_ = os.Remove(dir)
		return nil, fmt.Errorf("no cgroup.kill (Linux before 5.14): %w", err)
	}
	fd, err := syscall.Open(dir, syscall.O_DIRECTORY|syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		_ = os.Remove(dir)
		return nil, err
	}
	return &cgroup{dir: dir, fd: fd}, nil
}

func sysProcAttr(cg *cgroup) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if cg != nil {
		a.UseCgroupFD, a.CgroupFD = true, cg.fd
	}
	return a
}

// pids lists the cgroup's processes.
func (c *cgroup) pids() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for f := range strings.FieldsSeq(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// signal sends sig to every process of the cgroup.
func (c *cgroup) signal(sig syscall.Signal) {
	if sig == syscall.SIGKILL {
		c.kill()
		return
	}
	pids, _ := c.pids()
	for _, pid := range pids {
		_ = syscall.Kill(pid, sig)
	}
}

// kill kills every process of the cgroup, and waits (up to a bound) for
// it to be empty.
func (c *cgroup) kill() {
	_ = os.WriteFile(filepath.Join(c.dir, "cgroup.kill"), []byte("1"), 0)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if !c.populated() {
			return
		}
	}
}

// populated says the cgroup or a child of it still holds a process.
func (c *cgroup) populated() bool {
	b, err := os.ReadFile(filepath.Join(c.dir, "cgroup.events"))
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte("populated 1"))
}

// remove removes the (empty) cgroup.
func (c *cgroup) remove() {
	if c.fd >= 0 {
		_ = syscall.Close(c.fd)
	}
	// Right after its last process has gone, the kernel may refuse to
	// remove the cgroup for a moment (EBUSY): try again for a while.
	// One still populated (a process in D state that no KILL ends) is
	// left; the next supervisor removes it (reapOrphans).
	for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		err := os.Remove(c.dir)
		if err == nil || os.IsNotExist(err) || time.Now().After(deadline) {
			return
		}
	}
}

// pidNamespace names this process's pid namespace ("ns4026531836"), so
// that a cgroup's supervisor pid is only ever looked up in the
// namespace it means something in.
func pidNamespace() string {
	link, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return "ns"
	}
	return "ns" + strings.Trim(strings.TrimPrefix(link, "pid:"), "[]")
}

// groupsRSS returns the resident memory of every process group's
// processes together, by group id, from one read of every
// /proc/PID/stat. It runs every second for restart_when.rss: each file
// costs an open, a read and a close, into one buffer.
func groupsRSS() map[int]uint64 {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil
	}
	page := uint64(os.Getpagesize())
	groups := map[int]uint64{}
	buf := make([]byte, 4096) // a stat line is well under 1 KiB
	for _, name := range names {
		if name == "" || name[0] < '0' || name[0] > '9' {
			continue
		}
		b, err := readInto("/proc/"+name+"/stat", buf)
		if err != nil {
			continue // it ended
		}
		buf = b[:cap(b)]
		if pgrp, pages, ok := statGroupRSS(b); ok {
			groups[pgrp] += pages * page
		}
	}
	return groups
}

// rss returns the resident memory of the cgroup's processes together,
// from cgroup.procs and their /proc/PID/stat, read into one buffer.
func (c *cgroup) rss() (uint64, error) {
	procs, err := readInto(filepath.Join(c.dir, "cgroup.procs"), make([]byte, 512))
	if err != nil {
		return 0, err
	}
	page := uint64(os.Getpagesize())
	buf := make([]byte, 1024)
	var total uint64
	for len(procs) > 0 {
		pid, rest, _ := bytes.Cut(procs, []byte("\n"))
		procs = rest
		if len(pid) == 0 {
			continue
		}
		b, err := readInto("/proc/"+string(pid)+"/stat", buf)
		if err != nil {
			continue // it ended
		}
		buf = b[:cap(b)]
		if _, pages, ok := statGroupRSS(b); ok {
			total += pages * page
		}
	}
	return total, nil
}

// readInto reads the whole file at path into buf, growing it when the
// file is larger, and returns what it read.
func readInto(path string, buf []byte) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, max(len(buf), 512))...)
		}
		m, err := syscall.Read(fd, buf[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, err
		case m == 0:
			return buf[:n], nil
		}
		n += m
	}
}

// statGroupRSS returns the process group (field 5) and resident pages
// (field 24) of a /proc/PID/stat line, without allocating. The command
// name, field 2, is in parentheses and may hold spaces and parentheses.
func statGroupRSS(b []byte) (pgrp int, pages uint64, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	rest := b[i+1:]
	var gotGroup bool
	for n := 3; n <= 24; n++ { // rest holds field n on
		rest = bytes.TrimLeft(rest, " ")
		j := bytes.IndexByte(rest, ' ')
		if j < 0 {
			j = len(rest)
		}
		field := bytes.TrimRight(rest[:j], "\n")
		switch n {
		case 5:
			v, ok := parseDigits(field)
			if !ok {
				return 0, 0, false
			}
			pgrp, gotGroup = int(v), true
		case 24:
			v, ok := parseDigits(field)
			if !ok || !gotGroup {
				return 0, 0, false
			}
			return pgrp, v, true
		}
		rest = rest[j:]
	}
	return 0, 0, false
}

// parseDigits parses a non-empty run of decimal digits.
func parseDigits(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// reapOrphans kills and removes the cgroups under parent that a
// supervisor left behind when it was killed (SIGKILL, a crash): those
// named gotask-PID-... whose PID runs no more. What ran in them was a
// dead supervisor's instances, which nothing else would ever stop.
func reapOrphans(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "gotask-")
		if !ok || !e.IsDir() {
			continue
		}
		pidText, rest, _ := strings.Cut(rest, "-")
		ns, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || ns != pidNamespace() || syscall.Kill(pid, 0) != syscall.ESRCH {
			// Not a supervisor's, or one that may still run, or one
			// whose pid means another process here (another pid
			// namespace sharing the cgroup tree).
			continue
		}
		c := &cgroup{dir: filepath.Join(parent, e.Name()), fd: -1}
		c.kill()
		_ = os.Remove(c.dir)
	}
}
