//go:build !linux

package service

import "context"

// procHandle watches a process by its pid.
type procHandle struct{ pid int }

func watchProcess(pid int) procHandle { return procHandle{pid} }

// wait returns once the process has ended, or ctx ends.
func (h procHandle) wait(ctx context.Context) error { return waitExitPolling(ctx, h.pid) }

func (h procHandle) close() {}
