package service

import (
	"os/exec"
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
