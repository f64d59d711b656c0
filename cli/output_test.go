package cli_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gotask/gotask/internal/sshtest"
)

// TestLongLinesNeverMix: hosts printing lines far longer than the 64 KiB
// a line writer holds back, all at once. A long line is cut into lines
// of its own, each with its host's prefix, so no line a person sees
// holds two hosts' text, and no byte is lost.
func TestLongLinesNeverMix(t *testing.T) {
	t.Parallel()
	hosts := []string{"a", "b", "c", "d"}
	s := newSSH(t, sshtest.SSHDOptions{}, nil, hosts...)
	file := writeTasks(t, `
[tasks.long]
run = '''
for i in 1 2 3 4 5 6 7 8; do
  head -c 300000 /dev/zero | tr '\0' "$GOTASK_HOST"
  echo
done
'''
`)
	o := s.run(t, file, "-H", strings.Join(hosts, ","), "long")
	if o.code != 0 {
		t.Fatalf("exit %d, want 0", o.code)
	}
	line := regexp.MustCompile(`^\[([a-d])\] ([a-d]+)$`)
	total := map[string]int{}
	for i, l := range strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			at := strings.IndexAny(l[min(1, len(l)):], "[\x1b\r") + 1
			t.Fatalf("line %d is not one prefixed host's text (%d bytes; mixed at %d: %.40q)", i+1, len(l), at, l[max(0, at-10):])
		}
		if strings.Trim(m[2], m[1]) != "" {
			t.Fatalf("line %d of host %s holds another host's text: %.80q...", i+1, m[1], l)
		}
		total[m[1]] += len(m[2])
	}
	for _, h := range hosts {
		if total[h] != 8*300000 {
			t.Errorf("host %s: %d bytes shown, want %d", h, total[h], 8*300000)
		}
	}
}
