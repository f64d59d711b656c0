package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// interruptible returns a context that Ctrl-C (SIGINT) or SIGTERM
// cancels, so that the running commands are stopped cleanly (interrupt,
// then kill) and what was left is skipped. The first signal restores the
// default handling: a second one ends gotask at once. Call stop when done.
//
// gotask sets this up only when it is about to run something: listing,
// help and completion stay free of signal handling, which costs a thread
// and a fraction of a millisecond at every start.
func interruptible(ctx context.Context) (_ context.Context, stop func()) {
	ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}
