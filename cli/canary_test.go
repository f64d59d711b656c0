package cli_test

import (
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestCanaryBatches: serial = [1, "20%", "100%"] on 10 hosts runs one
// host, then two, then the other seven, each batch after the one before
// ends; a failing canary stops the rest, and max_fail_percent lets a
// batch carry on while no more than that share of it failed. Each host
// counts the markers of the hosts before it, then leaves its own.
func TestCanaryBatches(t *testing.T) {
	t.Parallel()
	hosts := hostNames("host", 10)
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	batchOf := func(i int) (lo, hi int) { // the markers host i+1 may see
		switch {
		case i == 0:
			return 0, 0
		case i < 3:
			return 1, 2
		}
		return 3, 9
	}
	for _, tt := range []struct {
		name, extra, fail string
		code              int
		ran               []string
	}{
		{name: "all ok", ran: hosts},
		{name: "canary fails", fail: "host1", code: 4, ran: hosts[:1]},
		{name: "half of batch 2 fails, 50% allowed", extra: "max_fail_percent = 50", fail: "host2", code: 4, ran: hosts},
		{name: "half of batch 2 fails, 40% allowed", extra: "max_fail_percent = 40", fail: "host2", code: 4, ran: hosts[:3]},
		{name: "max_fail_percent does not excuse the canary", extra: "max_fail_percent = 50", fail: "host1", code: 4, ran: hosts[:1]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := writeTasks(t, `
[tasks.roll]
hosts = ["@all"]
serial = [1, "20%", "100%"]
`+tt.extra+`
run = '''
echo "saw $(ls '`+dir+`' | wc -l)"
touch '`+dir+`'/"$GOTASK_HOST"
if [ "$GOTASK_HOST" = "`+tt.fail+`" ]; then exit 4; fi
'''
[hosts]
all = ["host1", "host2", "host3", "host4", "host5", "host6", "host7", "host8", "host9", "host10"]
`)
			o := s.run(t, file, "roll")
			if o.code != tt.code {
				t.Errorf("exit %d, want %d", o.code, tt.code)
			}
			got := markers(t, dir)
			slices.SortFunc(got, func(a, b string) int { return slices.Index(hosts, a) - slices.Index(hosts, b) })
			if !slices.Equal(got, tt.ran) {
				t.Errorf("hosts that ran: %v, want %v", got, tt.ran)
			}
			for i, h := range tt.ran {
				m := regexp.MustCompile(`(?m)^\[` + h + `\] +saw (\d+)$`).FindStringSubmatch(o.stdout)
				if m == nil {
					t.Errorf("no output from %s", h)
					continue
				}
				lo, hi := batchOf(i)
				if n, _ := strconv.Atoi(m[1]); n < lo || n > hi {
					t.Errorf("%s saw %d hosts done before it, want %d to %d", h, n, lo, hi)
				}
			}
			rows := summaryRows(t, o.stderr, "roll")
			for _, h := range hosts[len(tt.ran):] {
				if want := "skipped (not started: max_fail reached or interrupted)"; rows[h] != want {
					t.Errorf("summary row for %s = %q, want %q", h, rows[h], want)
				}
			}
		})
	}
}
