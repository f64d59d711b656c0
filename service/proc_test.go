package service

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestReadProcMatchesAChild reads a real child's statistics: its state
// is one letter, it started around now (after this test began, by the
// clock ticks' precision), and its RSS is non-zero.
func TestReadProcMatchesAChild(t *testing.T) {
	before := time.Now().Add(-2 * time.Second) // start times are in whole ticks, boot time in whole seconds
	c := exec.Command("sleep", "60")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	// Right after fork, before exec, the child may show no RSS yet: wait
	// until it sleeps (hang guard only).
	var st ProcStat
	for deadline := time.Now().Add(2 * time.Minute); st.State != "S"; time.Sleep(5 * time.Millisecond) {
		var err error
		if st, err = ReadProc(c.Process.Pid); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("sleep never showed as sleeping: %+v", st)
		}
	}
	if st.RSS == 0 {
		t.Errorf("ReadProc(sleep) = %+v: want a non-zero RSS", st)
	}
	if st.Start.Before(before) || st.Start.After(time.Now().Add(2*time.Second)) {
		t.Errorf("start %v, want close to %v", st.Start, before)
	}
	// A busy child's CPU time grows: wait for it to show (hang guard only).
	busy := exec.Command("sh", "-c", "while :; do :; done")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Process.Kill(); _ = busy.Wait() })
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		st, err := ReadProc(busy.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.CPU > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a busy loop used no CPU time in 2 minutes: %+v", st)
		}
	}
}

// TestReadProcGone says which process is gone.
func TestReadProcGone(t *testing.T) {
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadProc(c.Process.Pid); err == nil {
		t.Fatalf("ReadProc of a reaped process succeeded")
	}
}

// TestProcRSS: the RSS that restart_when.rss reads is ReadProc's, for a
// process that holds still (sleep).
func TestProcRSS(t *testing.T) {
	c := exec.Command("sleep", "60")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Millisecond) {
		st, err := ReadProc(c.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == "S" { // exec'd and asleep: its RSS stays put
			rss, err := procRSS(c.Process.Pid)
			if err != nil || rss == 0 || rss != st.RSS {
				t.Errorf("procRSS = %d, %v; ReadProc says %d", rss, err, st.RSS)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sleep never showed as sleeping: %+v", st)
		}
	}
	if _, err := procRSS(c.Process.Pid + 1_000_000_000); err == nil {
		t.Errorf("procRSS of no process gave no error")
	}
}

// TestGroupScanIsShared: the restart_when.rss checks of instances
// without a cgroup share one reading of /proc while it is fresh (the
// supervisor's cost), and a reading that is too old is made again (a
// group that began since is then found, with its members' memory).
func TestGroupScanIsShared(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process groups are listed from /proc")
	}
	group := func() *exec.Cmd {
		// A leader and a child in a group of their own.
		c := exec.Command("sh", "-c", "sleep 300 & wait")
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL); _ = c.Wait() })
		return c
	}
	var g groupScan
	a := group()
	// Both processes counted: more than the leader alone (hang guard only).
	until(t, "the group's two processes in a reading", func() bool {
		leader, err := procRSS(a.Process.Pid)
		total, ok := g.rss(a.Process.Pid, 0)
		return err == nil && ok && leader > 0 && total > leader
	})
	at := g.at
	b := group()
	if _, ok := g.rss(a.Process.Pid, time.Hour); !ok || !g.at.Equal(at) {
		t.Errorf("a check within maxAge read /proc again (at %v, was %v) or lost the group (%v)", g.at, at, ok)
	}
	if _, ok := g.rss(b.Process.Pid, time.Hour); ok {
		t.Errorf("a reading knows a group that began after it: it was not shared")
	}
	until(t, "the new group in a fresh reading", func() bool {
		total, ok := g.rss(b.Process.Pid, 0)
		return ok && total > 0
	})
}
