package lock

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gotask/gotask/internal/shell"
	"github.com/gotask/gotask/runner"
)

// RemoteDir is where remote locks live, relative to the login directory
// of the host's user.
const RemoteDir = ".gotask-locks"

// DefaultStale is how old a remote lock must be before it is taken as
// abandoned whoever holds it, when the task sets no bound.
const DefaultStale = 12 * time.Hour

// Result is what TryRemote found.
type Result struct {
	// Acquired reports that the lock is now held by the caller.
	Acquired bool
	// Holder is who holds it when not Acquired (nil: a holder that has
	// not written its info yet).
	Holder *Holder
	// Recovered is the previous holder of a stale lock that TryRemote
	// removed before taking the lock; Why says why it was stale.
	Recovered *Holder
	Why       string
}

// TryRemote takes the lock name on the host r runs on, if nobody holds
// it, as me: mkdir ~/.gotask-locks/NAME, then its info file. A lock held
// by a gotask of this machine (me.Host) whose process is gone, or held
// for longer than stale (zero: DefaultStale), is removed and taken, and
// the Result says so.
func TryRemote(ctx context.Context, r runner.Runner, name string, me Holder, stale time.Duration) (Result, error) {
	if !ValidName(name) {
		return Result{}, fmt.Errorf("lock name %q: use letters, digits, '-', '_', '.' and ':'", name)
	}
	if stale <= 0 {
		stale = DefaultStale
	}
	out, err := remoteRun(ctx, r, acquireScript(name, me))
	if err != nil {
		return Result{}, err
	}
	if strings.HasPrefix(out, "acquired\n") {
		return Result{Acquired: true}, nil
	}
	info, _ := strings.CutPrefix(out, "held\n")
	h := parseHolder(info)
	if h == nil {
		return Result{Holder: h}, nil
	}
	why := ""
	switch {
	case h.sameMachine(me) && !alive(h.Pid):
		why = fmt.Sprintf("its gotask (pid %d on %s) is gone", h.Pid, h.Host)
	case time.Since(h.Since) > stale:
		why = fmt.Sprintf("it is older than %s", stale)
	default:
		return Result{Holder: h}, nil
	}
	// Remove it only if it is still the lock that was read (a token is
	// unique to a holding), then try again once.
	if _, err := remoteRun(ctx, r, removeScript(name, h.Token)); err != nil {
		return Result{}, err
	}
	res, err := TryRemote(ctx, r, name, me, stale)
	if err == nil && res.Acquired {
		res.Recovered, res.Why = h, why
	}
	return res, err
}

// ReleaseRemote removes the lock name on the host if me still holds it
// (it may have been recovered by another gotask as stale).
func ReleaseRemote(ctx context.Context, r runner.Runner, name string, me Holder) error {
	_, err := remoteRun(ctx, r, removeScript(name, me.Token))
	return err
}

// lockPath is the shell text of the lock's directory.
func lockPath(name string) string {
	return `"$HOME"/` + RemoteDir + "/" + shell.Quote(name)
}

// acquireScript prints "acquired" after making the lock, or "held" and
// the holder's info. The info is written to a temporary name and renamed,
// so a reader never sees half of it.
func acquireScript(name string, me Holder) string {
	l := lockPath(name)
	return fmt.Sprintf(`umask 077; mkdir -p "$HOME"/%s || exit 1; `+
		`if mkdir %s 2>/dev/null; then printf %%s %s > %s/info.tmp && mv -f %s/info.tmp %s/info && echo acquired; `+
		`else echo held; cat %s/info 2>/dev/null; fi`,
		RemoteDir, l, shell.Quote(me.encode()), l, l, l, l)
}

// removeScript removes the lock if its info holds token.
func removeScript(name, token string) string {
	l := lockPath(name)
	return fmt.Sprintf(`if grep -qx %s %s/info 2>/dev/null; then rm -f %s/info %s/info.tmp && rmdir %s; fi`,
		shell.Quote("token="+token), l, l, l, l)
}

// remoteRun runs script with pipes and returns its standard output.
func remoteRun(ctx context.Context, r runner.Runner, script string) (string, error) {
	var out, errOut bytes.Buffer
	_, err := r.Run(ctx, &runner.Cmd{Command: script, Stdout: &out, Stderr: &errOut, Pty: runner.PtyOff})
	if err != nil {
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			return "", fmt.Errorf("remote lock: %w: %s", err, msg)
		}
		return "", fmt.Errorf("remote lock: %w", err)
	}
	return out.String(), nil
}
