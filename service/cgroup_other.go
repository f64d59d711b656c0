//go:build !linux

package service

import (
	"errors"
	"syscall"
)

// cgroup is Linux's; elsewhere instances have their process group only.
type cgroup struct{}

func cgroupParent() string { return "" }

func newCgroup(parent, name string) (*cgroup, error) {
	return nil, errors.New("cgroups are Linux's")
}

func sysProcAttr(*cgroup) *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func (c *cgroup) pids() ([]int, error)      { return nil, errors.New("no cgroup") }
func (c *cgroup) signal(sig syscall.Signal) {}
func (c *cgroup) kill()                     {}
func (c *cgroup) remove()                   {}
func (c *cgroup) rss() (uint64, error)      { return 0, errors.New("no cgroup") }

func reapOrphans(parent string) {}

func pidNamespace() string { return "ns" }

// groupsRSS returns nil: without /proc, process groups are not listed.
func groupsRSS() map[int]uint64 { return nil }
