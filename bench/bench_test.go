package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotask/gotask/output"
	"github.com/pelletier/go-toml/v2"
)

func ms(n ...float64) []sample {
	s := make([]sample, len(n))
	for i, x := range n {
		d := time.Duration(x * float64(time.Millisecond))
		s[i] = sample{wall: d, cpu: d / 2, maxRSS: int64(x * 1e6)}
	}
	return s
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name             string
		in               []sample
		median, min, max float64 // ms
	}{
		{"none", nil, 0, 0, 0},
		{"one", ms(3), 3, 3, 3},
		{"odd, unsorted", ms(5, 1, 3), 3, 1, 5},
		{"even: mean of the middle two", ms(4, 1, 2, 10), 3, 1, 10},
		{"outlier does not move the median", ms(2, 2, 2, 2, 500), 2, 2, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(tt.in)
			want := stats{
				median: time.Duration(tt.median * float64(time.Millisecond)),
				min:    time.Duration(tt.min * float64(time.Millisecond)),
				max:    time.Duration(tt.max * float64(time.Millisecond)),
				maxRSS: int64(tt.max * 1e6),
			}
			want.cpu = want.median / 2
			if len(tt.in) > 0 { // ms gives every run half a CPU
				want.share, want.shareMin, want.shareMax = 0.5, 0.5, 0.5
			}
			if got != want {
				t.Errorf("summarize = %+v, want %+v", got, want)
			}
		})
	}
}

func TestSummarizeLeavesInputAlone(t *testing.T) {
	in := ms(3, 1, 2)
	summarize(in)
	if in[0].wall != 3*time.Millisecond {
		t.Errorf("summarize reordered its input: %v", in)
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		cand, base []sample
		want       float64
	}{
		{ms(10), ms(4), 2.5},
		{ms(1, 2, 3), ms(2, 2, 2), 1},
		{nil, ms(1), 0},
		{ms(1), nil, 0},
	}
	for _, tt := range tests {
		if got := ratio(summarize(tt.cand), summarize(tt.base)); got != tt.want {
			t.Errorf("ratio(%v, %v) = %v, want %v", tt.cand, tt.base, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{850 * time.Microsecond, "0.850 ms"},
		{1234 * time.Microsecond, "1.23 ms"},
		{12345 * time.Microsecond, "12.3 ms"},
		{123456 * time.Microsecond, "123 ms"},
		{1500 * time.Millisecond, "1.50 s"},
		{12 * time.Second, "12.0 s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.in); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTable(t *testing.T) {
	pass := benchmark{name: "g/fast", target: "≤ 2x x", ratioTarget: 2}
	miss := benchmark{name: "g/slow", target: "≤ 1.1x y | z", ratioTarget: 1.1}
	broken := benchmark{name: "g/broken", target: "≤ 1x", ratioTarget: 1}
	results := []result{
		{b: &pass, candidate: ms(3, 4, 5), baseline: ms(2, 2, 2)},
		{b: &miss, candidate: ms(12), baseline: ms(10)},
		{b: &broken, err: errors.New("no script")},
	}
	tab := newTable(results)
	wantVerdicts := []string{"PASS", "MISS", "ERROR"}
	for i, row := range tab.rows {
		if len(row) != len(tab.header) {
			t.Fatalf("row %d has %d cells, header %d", i, len(row), len(tab.header))
		}
		if row[5] != wantVerdicts[i] {
			t.Errorf("row %d: verdict %q, want %q", i, row[5], wantVerdicts[i])
		}
	}
	if got := tab.rows[0][3]; got != "2.00x" {
		t.Errorf("ratio cell = %q, want 2.00x", got)
	}
	if got := tab.rows[0][6]; got != "2.00x" {
		t.Errorf("CPU ratio cell = %q, want 2.00x", got)
	}
	if got := tab.rows[0][1]; got != "4.00 ms (3.00 ms–5.00 ms)" {
		t.Errorf("candidate cell = %q", got)
	}

	var md bytes.Buffer
	tab.writeMarkdown(&md)
	lines := strings.Split(strings.TrimSpace(md.String()), "\n")
	if len(lines) != 2+len(results) {
		t.Fatalf("markdown has %d lines, want %d:\n%s", len(lines), 2+len(results), md.String())
	}
	cols := strings.Count(lines[0], " | ") + 1
	for i, l := range lines {
		unescaped := strings.ReplaceAll(l, `\|`, "")
		if !strings.HasPrefix(l, "|") || !strings.HasSuffix(l, "|") || strings.Count(unescaped, "|")-1 != cols {
			t.Errorf("markdown line %d is not a %d-column row: %q", i, cols, l)
		}
	}
	if !strings.Contains(md.String(), `y \| z`) {
		t.Errorf("a | in a cell is not escaped:\n%s", md.String())
	}

	var text bytes.Buffer
	tab.writeText(&text)
	if got := strings.Count(text.String(), "\n"); got != 1+len(results) {
		t.Errorf("text table has %d lines, want %d:\n%s", got, 1+len(results), text.String())
	}
}

// The shape gotask's loader reads, as far as these files use it.
type tasksFile struct {
	Default string
	Vars    map[string]string
	Tasks   map[string]struct {
		Help    string
		Aliases []string
		Deps    []string
		Pty     *bool
		Run     any
		Args    []map[string]any
		Env     map[string]string
	}
}

func TestListTasksTOML(t *testing.T) {
	var f tasksFile
	dec := toml.NewDecoder(strings.NewReader(listTasksTOML(50)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("the generated tasks.toml does not parse: %v", err)
	}
	if len(f.Tasks) != 50 {
		t.Fatalf("%d tasks, want 50", len(f.Tasks))
	}
	if _, ok := f.Tasks[f.Default]; !ok {
		t.Errorf("default %q is not a task", f.Default)
	}
	for name, task := range f.Tasks {
		if task.Help == "" || task.Run == nil {
			t.Errorf("task %s has no help or no run", name)
		}
		for _, d := range task.Deps {
			if _, ok := f.Tasks[d]; !ok {
				t.Errorf("task %s depends on %q, which is not a task", name, d)
			}
		}
	}
}

func TestOutputTasksTOML(t *testing.T) {
	var f tasksFile
	if err := toml.Unmarshal([]byte(outputTasksTOML(20, 2)), &f); err != nil {
		t.Fatalf("does not parse: %v", err)
	}
	for name, n := range map[string]int{"big": 20, "small": 2} {
		task := f.Tasks[name]
		if task.Pty == nil || !*task.Pty {
			t.Errorf("task %s does not force a pty", name)
		}
		if task.Run != outputCommand(n) {
			t.Errorf("task %s runs %q, want %q", name, task.Run, outputCommand(n))
		}
	}
}

func TestCountWriter(t *testing.T) {
	var w countWriter
	w.Write([]byte("xxx"))
	w.Write([]byte("x\r\nx"))
	if w.n != 7 || w.other != 2 {
		t.Errorf("counted %d bytes, %d not x; want 7 and 2", w.n, w.other)
	}
}

func TestBenchmarks(t *testing.T) {
	nameRE := regexp.MustCompile(`^[a-z]+/[A-Za-z0-9-]+$`)
	seen := map[string]bool{}
	for _, b := range benchmarks() {
		if !nameRE.MatchString(b.name) {
			t.Errorf("name %q is not group/words-with-dashes", b.name)
		}
		if seen[b.name] {
			t.Errorf("name %q is used twice", b.name)
		}
		seen[b.name] = true
		if b.candidate == nil || b.baseline == nil {
			t.Errorf("%s: no candidate or baseline", b.name)
		}
		if b.ratioTarget <= 0 {
			t.Errorf("%s: ratioTarget %v", b.name, b.ratioTarget)
		}
		if want := strconv.FormatFloat(b.ratioTarget, 'f', -1, 64) + "x"; !strings.Contains(b.target, want) {
			t.Errorf("%s: target %q does not state the ratio %s", b.name, b.target, want)
		}
	}
}

func TestFormatRSS(t *testing.T) {
	tests := []struct {
		in   stats
		want string
	}{
		{stats{}, "?"},
		{stats{maxRSS: 12_300_000, selfRSS: 5_000_000}, "12.3 MB"},
		{stats{maxRSS: 5_000_000, selfRSS: 5_000_000}, "≤ 5.0 MB"},
	}
	for _, tt := range tests {
		if got := formatRSS(tt.in); got != tt.want {
			t.Errorf("formatRSS(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHostFailures(t *testing.T) {
	var stderr bytes.Buffer
	stderr.WriteString("[h2] sh: 1: nope: not found\n")
	output.New(nil, &stderr, output.Options{}).Summary("one", []output.Row{
		{Host: "h1", Status: "ok", Duration: 3 * time.Millisecond},
		{Host: "h2", Status: "failed", Detail: "exit status 127 in step 1", Duration: 4 * time.Millisecond},
		{Host: "h10", Status: "unreachable", Detail: "dial tcp 127.0.0.1:22: connection refused"},
		{Host: "h3", Status: "unreachable", Detail: "handshake: ok then EOF", Duration: time.Second},
		{Host: "h4", Status: "skipped", Detail: "an earlier batch failed"},
	}, false)
	stderr.WriteString("gotask: task one failed on 4 of 5 hosts\n")

	got := hostFailures(stderr.String(), 2)
	want := "4 of 5 hosts not ok (1 failed, 2 unreachable, 1 skipped): " +
		"h2 failed (exit status 127 in step 1); h10 unreachable (dial tcp 127.0.0.1:22: connection refused)"
	if got != want {
		t.Errorf("hostFailures =\n%q, want\n%q\nfrom:\n%s", got, want, stderr.String())
	}

	var ok bytes.Buffer
	output.New(nil, &ok, output.Options{}).Summary("one", []output.Row{
		{Host: "h1", Status: "ok", Duration: time.Millisecond},
		{Host: "h2", Status: "ok", Duration: time.Millisecond},
	}, false)
	for _, s := range []string{ok.String(), "", "gotask: no such task\n"} {
		if got := hostFailures(s, 3); got != "" {
			t.Errorf("hostFailures(%q) = %q, want none", s, got)
		}
	}
}

func TestTableLimits(t *testing.T) {
	// ms(x): x ms of wall time, x/2 ms of CPU, x MB of peak RSS.
	cpuMiss := benchmark{name: "g/cpu", ratioTarget: 1, hosts: 10, cpuLimit: time.Millisecond, rssLimit: 100e6}
	rssMiss := benchmark{name: "g/rss", ratioTarget: 1, hosts: 10, cpuLimit: 3 * time.Millisecond, rssLimit: 30e6}
	cpuOnly := benchmark{name: "g/ok", ratioTarget: 1, hosts: 4, cpuLimit: 3 * time.Millisecond}
	perHost := benchmark{name: "g/scale", ratioTarget: 2, hosts: 5}
	tab := newTable([]result{
		{b: &cpuMiss, candidate: ms(40), baseline: ms(20)},
		{b: &rssMiss, candidate: ms(40), baseline: ms(20)},
		{b: &cpuOnly, candidate: ms(16), baseline: ms(500)},
		{b: &perHost, candidate: ms(30), baseline: ms(20)},
	})
	tests := []struct{ ratio, verdict, cand, base string }{
		{"2.00x (CPU a host 2.00x, RSS 0.40x)", "MISS", "40.0 ms (40.0 ms–40.0 ms), CPU 2.00 ms a host", "20.0 ms (20.0 ms–20.0 ms), CPU 1.00 ms a host"},
		{"1.33x (CPU a host 0.67x, RSS 1.33x)", "MISS", "", ""},
		{"0.67x", "PASS", "16.0 ms (16.0 ms–16.0 ms), CPU 2.00 ms a host", ""},
		{"1.50x", "PASS", "", "20.0 ms (20.0 ms–20.0 ms), CPU 2.00 ms a host"},
	}
	for i, tt := range tests {
		row := tab.rows[i]
		if row[3] != tt.ratio || row[5] != tt.verdict {
			t.Errorf("%s: ratio %q, verdict %s; want %q, %s", row[0], row[3], row[5], tt.ratio, tt.verdict)
		}
		if tt.cand != "" && row[1] != tt.cand {
			t.Errorf("%s: candidate cell %q, want %q", row[0], row[1], tt.cand)
		}
		if tt.base != "" && row[2] != tt.base {
			t.Errorf("%s: baseline cell %q, want %q", row[0], row[2], tt.base)
		}
	}
}

func TestMissingPeerSkips(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no parallel-ssh, no pssh
	b := fanoutVsPeer("fanout/test-vs-pssh", 0.33, "≤ 0.33x pssh", psshPeer)
	r := measure(t.Context(), b, "/nonexistent/gotask", t.TempDir(), 1, false)
	if r.err != nil {
		t.Fatalf("a missing peer is an error, not a skip: %v", r.err)
	}
	row := newTable([]result{r}).rows[0]
	if want := "skipped: install pssh"; !strings.HasPrefix(row[5], want) {
		t.Errorf("result cell %q, want it to start %q", row[5], want)
	}
}

func TestTableServiceLimits(t *testing.T) {
	run := func(wall, cpu time.Duration, rss int64) sample {
		return sample{wall: wall, cpu: cpu, maxRSS: rss}
	}
	// 10 s windows: 30 ms of CPU is 0.3% of one CPU.
	idle := []sample{run(10*time.Second, 30*time.Millisecond, 12e6), run(10*time.Second, 50*time.Millisecond, 13e6), run(10*time.Second, 40*time.Millisecond, 14e6)}
	hot := []sample{run(10*time.Second, 80*time.Millisecond, 12e6)}
	cpuOK := benchmark{name: "s/idle", ratioTarget: 1, cpuShare: 0.005, rssLimit: 15e6}
	cpuMiss := benchmark{name: "s/hot", ratioTarget: 1, cpuShare: 0.005, rssLimit: 15e6}
	rssMiss := benchmark{name: "s/fat", ratioTarget: 1, cpuShare: 0.005, rssLimit: 10e6}
	fast := benchmark{name: "s/fast", ratioTarget: 1, wallLimit: 50 * time.Millisecond}
	slow := benchmark{name: "s/slow", ratioTarget: 1, wallLimit: 50 * time.Millisecond}
	tab := newTable([]result{
		{b: &cpuOK, candidate: idle, baseline: hot},
		{b: &cpuMiss, candidate: hot, baseline: idle},
		{b: &rssMiss, candidate: idle, baseline: idle},
		// The baseline is slower than gotask: the limit, not the baseline, decides.
		{b: &fast, candidate: ms(2, 3, 4), baseline: ms(100)},
		{b: &slow, candidate: ms(40, 60, 70), baseline: ms(1)},
	})
	tests := []struct{ ratio, verdict, cand, base string }{
		{"0.93x (CPU 0.80x, RSS 0.93x)", "PASS", "CPU 0.40% of one (0.30%–0.50%)", "CPU 0.80% of one (0.80%–0.80%)"},
		{"1.60x (CPU 1.60x, RSS 0.80x)", "MISS", "CPU 0.80% of one (0.80%–0.80%)", ""},
		{"1.40x (CPU 0.80x, RSS 1.40x)", "MISS", "", ""},
		{"0.06x", "PASS", "3.00 ms (2.00 ms–4.00 ms)", "100 ms (100 ms–100 ms)"},
		{"1.20x", "MISS", "", ""},
	}
	for i, tt := range tests {
		row := tab.rows[i]
		if row[3] != tt.ratio || row[5] != tt.verdict {
			t.Errorf("%s: ratio %q, verdict %s; want %q, %s", row[0], row[3], row[5], tt.ratio, tt.verdict)
		}
		if tt.cand != "" && row[1] != tt.cand {
			t.Errorf("%s: candidate cell %q, want %q", row[0], row[1], tt.cand)
		}
		if tt.base != "" && row[2] != tt.base {
			t.Errorf("%s: baseline cell %q, want %q", row[0], row[2], tt.base)
		}
	}
}

// The shape gotask's loader reads for services, as far as these files use it.
type servicesFile struct {
	Services map[string]struct {
		Run         string
		Replicas    int
		Backoff     string
		MaxRestarts int `toml:"max_restarts"`
		Ready       map[string]string
		RestartWhen map[string]string `toml:"restart_when"`
	}
}

func TestServicesTOML(t *testing.T) {
	decode := func(doc string) servicesFile {
		t.Helper()
		var f servicesFile
		dec := toml.NewDecoder(strings.NewReader(doc))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("does not parse: %v\n%s", err, doc)
		}
		return f
	}
	for _, limits := range []bool{false, true} {
		s, ok := decode(idleTOML(20, limits)).Services["idle"]
		if !ok || s.Replicas != 20 || !strings.Contains(s.Run, "sleep") {
			t.Errorf("idleTOML(20, %v): service idle = %+v, want 20 replicas of a sleep", limits, s)
		}
		if got := s.Ready["sh"] != "" && s.RestartWhen["rss"] != ""; got != limits {
			t.Errorf("idleTOML(20, %v): ready %v, restart_when %v", limits, s.Ready, s.RestartWhen)
		}
	}
	s := decode(crashTOML()).Services["crash"]
	if s.Run != crashCommand || s.Backoff != "0" || s.MaxRestarts < 100 {
		t.Errorf("crashTOML: %+v, want crashCommand, backoff 0 and room for many crashes", s)
	}
	if !readyRE.MatchString("gotask: idle.20: ready") || readyRE.MatchString("gotask: up: 20 of 20 instances ready; Ctrl-C stops them") {
		t.Errorf("readyRE does not take exactly an instance's ready line")
	}
	if !startedRE.MatchString("[crash] started 4242") || startedRE.MatchString("[crash] started 42 and more") {
		t.Errorf("startedRE does not take exactly the prefixed line of crashCommand")
	}
}

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	line := []byte("4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 300 0 0 0 123 45 6 7 20 0 27 0 99 123456 3500 18446744073709551615\n")
	cpu, err := parseStatCPU(line)
	if err != nil || cpu != 1680*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v; want 1.68s (168 ticks)", cpu, err)
	}
	f, err := statFields(line)
	if err != nil || f[1] != "17" {
		t.Errorf("statFields: ppid %q, %v; want 17", f[1], err)
	}
	for _, bad := range []string{"", "4242 no parens S 1 2", "4242 (x) S 17 4242"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) gave no error", bad)
		}
	}
}

func TestStatusBytes(t *testing.T) {
	status := "Name:\tgotask\nVmHWM:\t   14344 kB\nVmRSS:\t   12000 kB\nThreads:\t27\n"
	for key, want := range map[string]int64{"VmHWM": 14344 * 1024, "VmRSS": 12000 * 1024} {
		if got, err := statusBytes(status, key); err != nil || got != want {
			t.Errorf("statusBytes(%s) = %d, %v; want %d", key, got, err, want)
		}
	}
	for _, key := range []string{"VmSwap", "Threads", "VmRS"} {
		if got, err := statusBytes(status, key); err == nil {
			t.Errorf("statusBytes(%s) = %d, want an error", key, got)
		}
	}
}

func TestLineLog(t *testing.T) {
	l := newLineLog()
	r, w := io.Pipe()
	l.open = 1
	go l.read(r)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang guard
	defer cancel()
	go func() {
		io.WriteString(w, "gotask: up: 1 of 1 instances ready\n[crash] started 41\n")
		io.WriteString(w, "[crash] started 42\n")
		w.Close()
	}()
	i, err := l.next(ctx, 0, func(s string) bool { return startedRE.MatchString(s) && !strings.HasSuffix(s, " 41") })
	if err != nil || l.pidOf(i) != 42 || i != 2 {
		t.Fatalf("next = %d (pid %d), %v; want line 2, pid 42", i, l.pidOf(i), err)
	}
	if _, err := l.next(ctx, i+1, func(string) bool { return true }); err == nil {
		t.Errorf("next past the end of a closed stream gave no error")
	}
	if got := l.tail(1); got != "  [crash] started 42\n" {
		t.Errorf("tail(1) = %q", got)
	}
}

func TestCgroup2Mounts(t *testing.T) {
	info := `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 23 0:40 / /mnt/x\040y rw shared:5 - cgroup2 none rw
60 23 0:41 / /data rw - ext4 /dev/cgroup2 rw
`
	got := cgroup2Mounts(info)
	want := []string{"/sys/fs/cgroup/unified", "/mnt/x y"}
	if !slices.Equal(got, want) {
		t.Errorf("cgroup2Mounts = %q, want %q", got, want)
	}
}
