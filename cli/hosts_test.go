package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotask/gotask/internal/sshtest"
)

// Many hosts through the CLI: every host is an alias of one real sshd on
// loopback, so the hosts' commands all run on this machine and can leave
// markers in a shared directory.

// summaryRows parses the summary gotask prints to stderr after a
// multi-host run: host -> status text ("ok", "failed (exit 3: ...)").
func summaryRows(t *testing.T, stderr, taskName string) map[string]string {
	t.Helper()
	_, after, ok := strings.Cut(stderr, "\ntask "+taskName+": ")
	if !ok {
		t.Fatalf("no summary for task %s in stderr:\n%s", taskName, stderr)
	}
	rows := map[string]string{}
	row := regexp.MustCompile(`^  (\S+)\s+(?:\d\S*\s+)?((?:ok|failed|unreachable|skipped).*)$`)
	for _, line := range strings.Split(after, "\n")[1:] {
		m := row.FindStringSubmatch(line)
		if m == nil {
			break
		}
		if _, dup := rows[m[1]]; dup {
			t.Errorf("summary lists %s twice", m[1])
		}
		rows[m[1]] = m[2]
	}
	return rows
}

// markers lists the names of the files in dir.
func markers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestManyHostsPrefixedOutput runs 50 hosts at once. Each prints its
// lines in pieces, so that lines of different hosts could mix if the
// console let them; every line must be exactly "[hostN]<padding> " and
// that host's own text, in order.
func TestManyHostsPrefixedOutput(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 50)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	file := writeTasks(t, `
[tasks.hello]
run = '''
x=$(printf '%0200d' 0)
for i in 1 2 3 4 5; do
  printf '%s ' {{.host}}
  printf '%s line %s ' "$GOTASK_HOST" "$i"
  printf '%s\n' "$x"
done
'''
`)
	o := s.run(t, file, "-P", "50", "-H", strings.Join(hosts, ","), "hello")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0", o.code)
	}
	x := strings.Repeat("0", 200)
	next := map[string]int{} // host -> lines seen
	for _, line := range strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n") {
		host, _, _ := strings.Cut(strings.TrimPrefix(line, "["), "]")
		prefix := "[" + host + "]" + strings.Repeat(" ", len("host50")-len(host)) + " "
		want := fmt.Sprintf("%s%s %s line %d %s", prefix, host, host, next[host]+1, x)
		if !slices.Contains(hosts, host) || line != want {
			t.Fatalf("line %q\nwant %q", line, want)
		}
		next[host]++
	}
	for _, h := range hosts {
		if next[h] != 5 {
			t.Errorf("%s printed %d lines, want 5", h, next[h])
		}
	}
	rows := summaryRows(t, o.stderr, "hello")
	if !strings.Contains(o.stderr, "\ntask hello: 50 of 50 hosts ok\n") {
		t.Errorf("summary heading missing")
	}
	for _, h := range hosts {
		if rows[h] != "ok" {
			t.Errorf("summary row for %s = %q, want ok", h, rows[h])
		}
	}
	if len(rows) != 50 {
		t.Errorf("summary has %d rows, want 50", len(rows))
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestManyHostsMixedResults: hosts that fail, one that cannot be
// reached and one that outlives the task's timeout are each reported as
// such, the others still finish, and gotask exits with the first
// failure's status.
//
// It does not run in parallel with the other tests: on a busy machine
// the quick hosts could outlive the timeout too.
func TestManyHostsMixedResults(t *testing.T) {
	dead := closedPort(t)
	s := newSSH(t, sshtest.SSHDOptions{}, func(*sshtest.SSHD) string {
		return fmt.Sprintf("Host dead\n  HostName 127.0.0.1\n  Port %d\n", dead)
	}, "ok1", "ok2", "ok3", "fail1", "fail2", "slow")
	file := writeTasks(t, `
[tasks.check]
timeout = "10s" # long enough for the quick hosts on a loaded machine
run = '''
case "$GOTASK_HOST" in
fail*) echo "$GOTASK_HOST fails"; exit 3 ;;
slow) echo "slow pid $$"; exec sleep 3600 ;;
*) echo "$GOTASK_HOST fine" ;;
esac
'''
`)
	// The slow host's command never ends by itself: the run ends only
	// if the timeout stops it (or the hang guard, and then its summary
	// row does not say "timed out").
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	o := s.runCtx(ctx, t, file, &syncBuffer{}, "-H", "ok1,fail1,ok2,dead,slow,fail2,ok3", "check")
	if o.code != 3 {
		t.Errorf("exit %d, want 3 (the first failure's)", o.code)
	}
	// sshd does not signal a root login's sessions: stop the sleep here.
	if m := regexp.MustCompile(`slow pid (\d+)`).FindStringSubmatch(o.stdout); m != nil {
		if pid, _ := strconv.Atoi(m[1]); pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	rows := summaryRows(t, o.stderr, "check")
	want := map[string]*regexp.Regexp{
		"ok1":   regexp.MustCompile(`^ok$`),
		"ok2":   regexp.MustCompile(`^ok$`),
		"ok3":   regexp.MustCompile(`^ok$`),
		"fail1": regexp.MustCompile(`^failed \(exit 3: case .*\)$`),
		"fail2": regexp.MustCompile(`^failed \(exit 3: case .*\)$`),
		"dead":  regexp.MustCompile(`^unreachable \(.*` + strconv.Itoa(dead) + `.*refused.*\)$`),
		"slow":  regexp.MustCompile(`^failed \(timed out: case .*\)$`),
	}
	for h, re := range want {
		if !re.MatchString(rows[h]) {
			t.Errorf("summary row for %s = %q, want it to match %s", h, rows[h], re)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("summary has %d rows, want %d", len(rows), len(want))
	}
	if !strings.Contains(o.stderr, "task check: 3 of 7 hosts ok") {
		t.Errorf("summary heading missing")
	}
	for _, h := range []string{"ok1", "ok2", "ok3"} {
		if !strings.Contains(o.stdout, "["+h+"]   "+h+" fine\n") { // padded to "fail1"
			t.Errorf("stdout lacks %s's line", h)
		}
	}
}

// TestRollingBatches: serial = 2 runs hosts two at a time; a failure in
// the second batch with max_fail = 1 keeps the third from starting, and
// max_fail = 2 lets it run. Each host counts the markers of the hosts
// before it, then leaves its own.
func TestRollingBatches(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 6)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	for _, tt := range []struct {
		maxFail string
		ran     []string
	}{
		{maxFail: "1", ran: hosts[:4]},
		{maxFail: "2", ran: hosts},
	} {
		t.Run("max_fail="+tt.maxFail, func(t *testing.T) {
			dir := t.TempDir()
			file := writeTasks(t, `
[tasks.roll]
hosts = ["host1", "host2", "host3", "host4", "host5", "host6"]
serial = 2
max_fail = `+tt.maxFail+`
run = '''
echo "saw $(ls '`+dir+`' | wc -l)"
touch '`+dir+`'/"$GOTASK_HOST"
if [ "$GOTASK_HOST" = host3 ]; then exit 3; fi
'''
`)
			o := s.run(t, file, "roll")
			if o.code != 3 {
				t.Errorf("exit %d, want 3", o.code)
			}
			if got := markers(t, dir); !slices.Equal(got, tt.ran) {
				t.Errorf("hosts that ran: %v, want %v", got, tt.ran)
			}
			// A batch starts only when the one before it is done.
			for i, h := range tt.ran {
				batch := i / 2
				m := regexp.MustCompile(`(?m)^\[` + h + `\] saw (\d+)$`).FindStringSubmatch(o.stdout)
				if m == nil {
					t.Errorf("no output from %s", h)
					continue
				}
				if n, _ := strconv.Atoi(m[1]); n < 2*batch || n > 2*batch+1 {
					t.Errorf("%s in batch %d saw %d hosts done before it, want %d or %d", h, batch+1, n, 2*batch, 2*batch+1)
				}
			}
			rows := summaryRows(t, o.stderr, "roll")
			for _, h := range hosts {
				want := "ok"
				switch {
				case h == "host3":
					want = "failed (exit 3: echo \"saw $(ls '" + dir + "' | wc -l)\" ...)"
				case !slices.Contains(tt.ran, h):
					want = "skipped (not started: max_fail reached or interrupted)"
				}
				if rows[h] != want {
					t.Errorf("summary row for %s = %q, want %q", h, rows[h], want)
				}
			}
		})
	}
}

// TestOnceStep: a step with once = true runs on the first host only; the
// other steps run everywhere.
func TestOnceStep(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 4)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	dir := t.TempDir()
	file := writeTasks(t, `
[tasks.migrate]
steps = [
  { run = "touch '`+dir+`'/once-$GOTASK_HOST", once = true },
  { run = "touch '`+dir+`'/all-$GOTASK_HOST" },
]
`)
	o := s.run(t, file, "-H", strings.Join(hosts, ","), "migrate")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0", o.code)
	}
	want := []string{"all-host1", "all-host2", "all-host3", "all-host4", "once-host1"}
	if got := markers(t, dir); !slices.Equal(got, want) {
		t.Errorf("markers %v, want %v", got, want)
	}
}

// TestGroupedOutput: --output grouped prints each host's output as one
// block under a heading, each line with the host's prefix.
func TestGroupedOutput(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 4)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	file := writeTasks(t, `
[tasks.count]
run = 'for i in 1 2 3; do echo "$GOTASK_HOST $i"; echo "$GOTASK_HOST err $i" >&2; done'
`)
	o := s.run(t, file, "--output", "grouped", "-H", strings.Join(hosts, ","), "count")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0", o.code)
	}
	lines := strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n")
	heading := regexp.MustCompile(`^── (host\d) \(ok\) ──$`)
	var seen []string
	for len(lines) > 0 {
		m := heading.FindStringSubmatch(lines[0])
		if m == nil || len(lines) < 7 {
			t.Fatalf("want a heading and six lines, got %q", lines)
		}
		h := m[1]
		seen = append(seen, h)
		var outLines, errLines []string
		for _, l := range lines[1:7] {
			if strings.HasPrefix(l, "["+h+"] "+h+" err ") {
				errLines = append(errLines, l)
			} else {
				outLines = append(outLines, l)
			}
		}
		p := "[" + h + "] " + h
		wantOut := []string{p + " 1", p + " 2", p + " 3"}
		wantErr := []string{p + " err 1", p + " err 2", p + " err 3"}
		if !slices.Equal(outLines, wantOut) || !slices.Equal(errLines, wantErr) {
			t.Errorf("block of %s: %q", h, lines[1:7])
		}
		lines = lines[7:]
	}
	slices.Sort(seen)
	if !slices.Equal(seen, hosts) {
		t.Errorf("blocks for %v, want one for each of %v", seen, hosts)
	}
}

// TestJSONEvents: --json prints one JSON object per line: an event per
// output line and a last one per host with how it ended.
func TestJSONEvents(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "host1", "host2", "fail1")
	file := writeTasks(t, `
[tasks.report]
run = '''
echo "$GOTASK_HOST out"
echo "$GOTASK_HOST err" >&2
case "$GOTASK_HOST" in fail*) exit 3 ;; esac
'''
`)
	o := s.run(t, file, "--json", "-H", "host1,host2,fail1", "report")
	if o.code != 3 {
		t.Errorf("exit %d, want 3", o.code)
	}
	type event struct {
		Type     string `json:"type"`
		Task     string `json:"task"`
		Host     string `json:"host"`
		Stream   string `json:"stream"`
		Line     string `json:"line"`
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
	}
	events := map[string][]event{}
	for _, line := range strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n") {
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		if ev.Task != "report" {
			t.Errorf("event %q: task %q, want report", line, ev.Task)
		}
		events[ev.Host] = append(events[ev.Host], ev)
	}
	for _, h := range []string{"host1", "host2", "fail1"} {
		evs := events[h]
		wantOut := []event{
			{Type: "output", Task: "report", Host: h, Stream: "stdout", Line: h + " out"},
			{Type: "output", Task: "report", Host: h, Stream: "stderr", Line: h + " err"},
		}
		end := event{Type: "host", Task: "report", Host: h, Status: "ok"}
		if h == "fail1" {
			end.Status, end.ExitCode = "failed", 3
		}
		if len(evs) != 3 || evs[2] != end {
			t.Errorf("events of %s: %+v, want two output events then %+v", h, evs, end)
			continue
		}
		for _, w := range wantOut {
			if !slices.Contains(evs[:2], w) {
				t.Errorf("events of %s lack %+v", h, w)
			}
		}
	}
	if len(events) != 3 {
		t.Errorf("events for hosts %v, want host1, host2, fail1", events)
	}
}

// TestParallelOne: with -P 1 hosts run one after another, in the order
// given. Each host counts the markers already there before leaving its
// own: hostN must see N-1.
func TestParallelOne(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 5)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	dir := t.TempDir()
	file := writeTasks(t, `
[tasks.count]
run = '''
n=$(ls '`+dir+`' | wc -l)
touch '`+dir+`'/"$GOTASK_HOST"
echo "saw $n"
'''
`)
	o := s.run(t, file, "-P", "1", "-H", strings.Join(hosts, ","), "count")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0", o.code)
	}
	var want strings.Builder
	for i, h := range hosts {
		fmt.Fprintf(&want, "[%s] saw %d\n", h, i)
	}
	if o.stdout != want.String() {
		t.Errorf("stdout:\n%s\nwant:\n%s(one host at a time, in order)", o.stdout, want.String())
	}
}

// TestOnlyExclude: --only and --exclude narrow the hosts by name.
func TestOnlyExclude(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 6)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	dir := t.TempDir()
	file := writeTasks(t, `
[tasks.mark]
run = "touch '`+dir+`'/$GOTASK_HOST"
`)
	all := strings.Join(hosts, ",")
	o := s.run(t, file, "--only", "host[1-4]", "--exclude", "host2", "-H", all, "mark")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0", o.code)
	}
	if got, want := markers(t, dir), []string{"host1", "host3", "host4"}; !slices.Equal(got, want) {
		t.Errorf("ran on %v, want %v", got, want)
	}
	rows := summaryRows(t, o.stderr, "mark")
	if len(rows) != 3 || rows["host1"] != "ok" || rows["host3"] != "ok" || rows["host4"] != "ok" {
		t.Errorf("summary rows %v, want host1, host3, host4 ok", rows)
	}

	o = s.run(t, file, "--only", "db*", "-H", all, "mark")
	if o.code != 2 || !strings.Contains(o.stderr, "no hosts left to run on: the only and exclude patterns leave none of ") || !strings.Contains(o.stderr, "; check --only and --exclude\n") {
		t.Errorf("--only matching nothing: exit %d, stderr %q; want a usage error", o.code, o.stderr)
	}
}

// TestHostGroups: [hosts] groups as lists and as tables with user and
// port, used by -H @group and by a task's hosts.
func TestHostGroups(t *testing.T) {
	t.Parallel()
	// t1 and t2 name neither the port nor the right user: the table
	// group must supply both.
	s := newSSH(t, sshtest.SSHDOptions{}, func(*sshtest.SSHD) string {
		return "Host t1 t2\n  HostName 127.0.0.1\n  User gotask-no-such-user\n"
	}, hostNames("host", 3)...)
	file := writeTasks(t, fmt.Sprintf(`
[hosts]
pair = ["host1", "host2"]
tabled = { hosts = ["t1", "t2"], user = %q, port = %d }

[tasks.who]
run = 'echo "$(id -un) {{.host}}"'

[tasks.ontabled]
hosts = "tabled"
run = 'echo "$(id -un) {{.host}}"'

[tasks.mixed]
hosts = ["@pair", "host3"]
run = 'echo "$(id -un) {{.host}}"'
`, s.d.User, s.d.Port))
	for _, tt := range []struct {
		name  string
		args  []string
		hosts []string
	}{
		{"-H @pair", []string{"-H", "@pair", "who"}, []string{"host1", "host2"}},
		{"table group", []string{"ontabled"}, []string{"t1", "t2"}},
		{"-H @tabled", []string{"-H", "@tabled", "who"}, []string{"t1", "t2"}},
		{"group and host", []string{"mixed"}, []string{"host1", "host2", "host3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := s.run(t, file, tt.args...)
			if o.code != 0 {
				t.Fatalf("exit %d, want 0", o.code)
			}
			var want []string // the names of a run are all as long
			for _, h := range tt.hosts {
				want = append(want, fmt.Sprintf("[%s] %s %s", h, s.d.User, h))
			}
			got := strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n")
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("stdout lines %q, want %q", got, want)
			}
		})
	}
	o := s.run(t, file, "-H", "@nosuch", "who")
	if o.code != 2 || !strings.Contains(o.stderr, `unknown host group "nosuch"`) {
		t.Errorf("-H @nosuch: exit %d, stderr %q; want a usage error naming the group", o.code, o.stderr)
	}
}

// TestInterruptStopsAllHosts cancels the run once every host has
// started a long command: every host stops, the summary still prints,
// and gotask exits 130.
func TestInterruptStopsAllHosts(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 5)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	file := writeTasks(t, `
[tasks.wait]
run = 'echo "started $$"; exec sleep 3600'
`)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := regexp.MustCompile(`(?m)^\[(host\d)\] started (\d+)$`)
	stdout := &syncBuffer{onWrite: func(all string) {
		if len(started.FindAllString(all, -1)) == len(hosts) {
			cancel()
		}
	}}
	// The commands never end by themselves: only the interrupt ends the
	// run, long before the hang guard.
	guard := time.AfterFunc(hangGuard, func() { t.Errorf("gotask still running %v after the start", hangGuard); cancel() })
	defer guard.Stop()
	o := s.runCtx(ctx, t, file, stdout, "-H", strings.Join(hosts, ","), "wait")
	if o.code != 130 {
		t.Errorf("exit %d, want 130", o.code)
	}
	rows := summaryRows(t, o.stderr, "wait")
	for _, h := range hosts {
		if want := `failed (interrupted: echo "started $$"; exec sleep 3600)`; rows[h] != want {
			t.Errorf("summary row for %s = %q, want %q", h, rows[h], want)
		}
	}
	if !strings.Contains(o.stderr, "task wait: 0 of 5 hosts ok") {
		t.Errorf("summary heading missing")
	}
	// The commands ran here. sshd refuses to signal the sessions of a
	// root login ("session signalling requires privilege separation"), so
	// the sleeps may outlive the run; do not leave them behind.
	for _, m := range started.FindAllStringSubmatch(o.stdout, -1) {
		if pid, err := strconv.Atoi(m[2]); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
