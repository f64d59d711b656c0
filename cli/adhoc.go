package cli

import (
	"fmt"
	"io/fs"
	"path/filepath"
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
	name := freeName(reg, "adhoc")
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

// freeName returns base, or base-2, base-3, ... if tasks take it.
func freeName(reg *task.Registry, base string) string {
	name := base
	for i := 2; ; i++ {
		if _, taken := reg.Lookup(name); !taken {
			return name
		}
		name = base + "-" + strconv.Itoa(i)
	}
}

// checkTransferFlags refuses --put and --get used together, with a
// command or a task, or without -H or --to, and --to or --mode without
// either, each saying what to do instead.
func checkTransferFlags(opts *rootOptions) error {
	verb := "--put"
	if opts.Get != "" {
		verb = "--get"
	}
	switch {
	case opts.Put == "" && opts.Get == "":
		if opts.To != "" || opts.Mode != "" {
			return &UsageError{Msg: "--to and --mode go with --put or --get: gotask -H HOSTS --put PATH --to DEST"}
		}
		return nil
	case opts.Put != "" && opts.Get != "":
		return &UsageError{Msg: "--put and --get: one copy per run; run gotask once with --put and once with --get"}
	case opts.AdHoc != nil:
		return &UsageError{Msg: verb + " copies, and -- COMMAND runs a command: give one of them per run (run gotask twice, or write a task with a put or get step and a run step)"}
	case len(opts.Args) > 0:
		return &UsageError{Msg: fmt.Sprintf("%s copies without a task; leave out %q (a task copies with put and get steps)", verb, opts.Args[0])}
	case len(opts.Hosts) == 0:
		return &UsageError{Msg: verb + " copies to or from hosts: name them with -H, like gotask -H web1 --put app --to /opt/app/"}
	case opts.To == "":
		return &UsageError{Msg: verb + " needs --to: where the copy goes, like --put app --to /opt/app/ or --get /var/log/app.log --to logs/"}
	}
	if _, err := transferMode(opts.Mode); err != nil {
		return err
	}
	return nil
}

// transferMode reads --mode as tasks.toml reads a step's mode.
func transferMode(s string) (fs.FileMode, error) {
	if s == "" {
		return 0, nil
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > uint64(fs.ModePerm) {
		return 0, &UsageError{Msg: fmt.Sprintf("--mode %q: write octal permission bits from 0000 to 0777, like 0755 (no setuid, setgid or sticky bit)", s)}
	}
	return fs.FileMode(m), nil
}

// getPerHost reports whether --get writes into one directory per host:
// when -H names more than one host, or a group.
func getPerHost(reg *task.Registry, hosts []string) bool {
	if len(hosts) > 1 {
		return true
	}
	for _, h := range hosts {
		if _, ok := reg.Groups[strings.TrimPrefix(h, "@")]; ok || strings.HasPrefix(h, "@") {
			return true
		}
	}
	return false
}

// addTransfer adds to reg the one-step task that --put or --get runs, a
// put or get step as a tasks.toml would have, and returns its name. Local
// paths are taken from the current directory, as cp takes them, not from
// tasks.toml's. The paths are the user's own text: no {{.name}} in them
// is substituted.
func addTransfer(reg *task.Registry, opts *rootOptions) (string, error) {
	mode, err := transferMode(opts.Mode)
	if err != nil {
		return "", err
	}
	literal := func(s string) string { return strings.ReplaceAll(s, "{{", `{{"{{"}}`) }
	abs := func(p string) (string, error) {
		a, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if strings.HasSuffix(p, "/") && !strings.HasSuffix(a, "/") {
			a += "/" // a directory to copy into
		}
		return a, nil
	}
	st := task.Step{Mode: mode}
	var name, help string
	if opts.Put != "" {
		src, err := abs(opts.Put)
		if err != nil {
			return "", err
		}
		st.Put, st.To = literal(src), literal(opts.To)
		name, help = freeName(reg, "put"), fmt.Sprintf("copy %s to %s on the hosts", opts.Put, opts.To)
	} else {
		dst, err := abs(opts.To)
		if err != nil {
			return "", err
		}
		st.Get, st.To = literal(opts.Get), literal(dst)
		if getPerHost(reg, opts.Hosts) {
			// {{.host}} is the host as given: checkGetHosts makes sure
			// each one names a directory of its own.
			st.To = literal(strings.TrimSuffix(dst, "/")) + "/{{.host}}/"
		}
		name, help = freeName(reg, "get"), fmt.Sprintf("copy %s from the hosts to %s", opts.Get, opts.To)
	}
	t := task.Task{Name: name, Help: help, Steps: []task.Step{st}}
	if opts.AdHocSudo {
		t.Sudo = "root"
	}
	if err := reg.Add(t); err != nil {
		return "", err
	}
	return name, nil
}

// checkGetHosts makes sure that --get from several hosts can write each
// host's copy into a directory named after the host, inside --to: a host
// name that is empty, "." or "..", or holds a "/" would write elsewhere.
// It runs once dynamic groups have their hosts.
func checkGetHosts(reg *task.Registry, opts *rootOptions) error {
	if opts.Get == "" || !getPerHost(reg, opts.Hosts) {
		return nil
	}
	for _, entry := range opts.Hosts {
		names := []string{entry}
		if g, ok := reg.Groups[strings.TrimPrefix(entry, "@")]; ok {
			names = g.Hosts
		}
		for _, h := range names {
			if h == "" || h == "." || h == ".." || strings.ContainsAny(h, "/\\") {
				return &UsageError{Msg: fmt.Sprintf("--get from several hosts writes each host's copy into %s/HOST/, and host %q cannot name a directory there; get from it alone with -H", strings.TrimSuffix(opts.To, "/"), h)}
			}
		}
	}
	return nil
}
