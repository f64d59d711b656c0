package cli

import (
	"strconv"
	"strings"

	"github.com/gotask/gotask/task"
)

// addAdHoc adds to reg the task that runs an ad-hoc command (gotask -H
// HOSTS -- COMMAND) and returns its name. The command is the user's own
// shell text: its words are joined with spaces, as ssh joins them, and
// it runs as typed on each host, {{ and all (no placeholder is
// substituted in it).
func addAdHoc(reg *task.Registry, opts *rootOptions) (string, error) {
	if len(opts.Hosts) == 0 {
		return "", &UsageError{Msg: "-- COMMAND runs a command on hosts: name them with -H, like gotask -H web1,web2 -- uptime"}
	}
	line := strings.Join(opts.AdHoc, " ")
	if strings.TrimSpace(line) == "" {
		return "", &UsageError{Msg: "-H " + strings.Join(opts.Hosts, ",") + " --: no command after --; write the command to run on the hosts, like gotask -H web1 -- uptime"}
	}
	name := "adhoc"
	for i := 2; ; i++ {
		if _, taken := reg.Lookup(name); !taken {
			break
		}
		name = "adhoc-" + strconv.Itoa(i)
	}
	t := task.Task{Name: name, Help: "the ad-hoc command " + strconv.Quote(line),
		Steps: []task.Step{{Run: strings.ReplaceAll(line, "{{", `{{"{{"}}`)}}}
	if opts.AdHocSudo {
		t.Sudo = "root"
	}
	if err := reg.Add(t); err != nil {
		return "", err
	}
	return name, nil
}
