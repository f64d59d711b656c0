package service

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestStatGroupRSS(t *testing.T) {
	tests := []struct {
		line  string
		pgrp  int
		pages uint64
		ok    bool
	}{
		// The name may hold spaces and parentheses; rss is field 24.
		{"4242 (a (b) c) S 17 4000 4000 0 -1 4194560 300 0 0 0 123 45 6 7 20 0 27 0 99 123456 3500 18446744073709551615\n", 4000, 3500, true},
		// A line that ends at rss.
		{"7 (sh) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1000 12", 7, 12, true},
		{"7 (sh) S 1 7 7 0", 0, 0, false},                                         // too short
		{"7 sh S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1000 12", 0, 0, false},   // no name
		{"7 (sh) S 1 x 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1000 12", 0, 0, false}, // a bad group
	}
	for _, tt := range tests {
		pgrp, pages, ok := statGroupRSS([]byte(tt.line))
		if pgrp != tt.pgrp || pages != tt.pages || ok != tt.ok {
			t.Errorf("statGroupRSS(%q) = %d, %d, %v; want %d, %d, %v", tt.line, pgrp, pages, ok, tt.pgrp, tt.pages, tt.ok)
		}
	}
	line := []byte(tests[0].line)
	if n := testing.AllocsPerRun(100, func() { statGroupRSS(line) }); n > 0 {
		t.Errorf("statGroupRSS allocates %v times a line", n)
	}
}

// TestCgroupRSS: an instance's RSS in a cgroup is that of every process
// in it, the shell's child as well as the shell.
func TestCgroupRSS(t *testing.T) {
	parent := cgroupParent()
	if parent == "" {
		t.Skip("no writable cgroup v2 here (not root?)")
	}
	cg, err := newCgroup(parent, fmt.Sprintf("gotask-test-%d-rss", os.Getpid()))
	if err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	p, err := startProcess(Command{Line: "sleep 300 & wait"}, 0, cg, nil, nil)
	if err != nil {
		cg.remove()
		t.Fatal(err)
	}
	t.Cleanup(func() { p.signal(syscall.SIGKILL); p.cleanup() })
	until(t, "both processes in the cgroup, counted", func() bool {
		pids, err := cg.pids()
		if err != nil || len(pids) != 2 {
			return false
		}
		var sum uint64
		for _, pid := range pids {
			rss, err := procRSS(pid)
			if err != nil || rss == 0 {
				return false
			}
			sum += rss
		}
		total, err := cg.rss()
		return err == nil && total == sum
	})
}
