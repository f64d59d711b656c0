//go:build !linux

package cli

// undumpable does nothing where there is no PR_SET_DUMPABLE.
func undumpable() error { return nil }
