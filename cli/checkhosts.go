package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/gotask/gotask/runner/remote"
	"github.com/gotask/gotask/task"
)

// errHostsFailed is --check-hosts' answer when a host failed a check.
var errHostsFailed = &exitStatus{code: ExitFailure}

// checkHosts answers --check-hosts: one row per host, saying whether its
// host key was verified, the login accepted and, when the task uses
// sudo, the sudo password accepted; then why a check failed. It changes
// nothing on any host.
func checkHosts(ctx context.Context, out io.Writer, e *task.Executor, calls []task.Call) error {
	var call task.Call
	switch len(calls) {
	case 0:
		if len(e.Hosts) == 0 {
			return &UsageError{Msg: "--check-hosts needs hosts: -H host,... or -H @group, or a task that has hosts"}
		}
	case 1:
		call = calls[0]
	default:
		return &UsageError{Msg: "--check-hosts checks the hosts of one task at a time"}
	}
	checks, err := e.CheckHosts(ctx, call)
	if err != nil && call.Name == "" {
		return &UsageError{Msg: "-H: " + err.Error()} // an unknown group
	}
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "HOST\tKEY\tAUTH\tSUDO\t")
	failed := false
	for _, c := range checks {
		key, auth, sudo := checkColumns(&c)
		why := ""
		switch {
		case c.Connect != nil:
			why = withHint(c.Connect)
		case c.Sudo != nil:
			why = withHint(c.Sudo)
		}
		failed = failed || !c.OK()
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Host, key, auth, sudo, oneLine(why))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if failed {
		return errHostsFailed
	}
	return nil
}

// checkColumns says how each check went: ok, failed, or "-" when it was
// not made (an earlier one failed, or the task uses no sudo).
func checkColumns(c *task.HostCheck) (key, auth, sudo string) {
	key, auth, sudo = "ok", "ok", "-"
	var hk *remote.HostKeyError
	switch {
	case c.Connect == nil:
	case errors.As(c.Connect, &hk):
		key, auth = "failed", "-"
	case strings.Contains(c.Connect.Error(), "unable to authenticate"):
		// x/crypto/ssh checks the host key before it authenticates.
		auth = "failed"
	default: // unreachable: nothing was checked
		key, auth = "-", "-"
	}
	switch {
	case c.Connect != nil || len(c.SudoUsers) == 0:
	case c.Sudo != nil:
		sudo = "failed"
	default:
		sudo = "ok"
	}
	return key, auth, sudo
}

// oneLine keeps a message to one table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
