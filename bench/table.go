package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// stats summarises a benchmark side's runs.
type stats struct {
	median, min, max time.Duration
	cpu              time.Duration // median CPU time
	maxRSS           int64         // the largest over all runs, bytes
	selfRSS          int64         // bench's own peak then: maxRSS at or below it is an upper bound only

	// share is the median of the runs' CPU time over wall time (1 is
	// one CPU all along), shareMin and shareMax the extremes.
	share, shareMin, shareMax float64
}

// summarize returns the stats of samples; the median of an even number is
// the mean of the middle two. Zero samples give zero stats.
func summarize(samples []sample) stats {
	if len(samples) == 0 {
		return stats{}
	}
	wall := make([]time.Duration, len(samples))
	cpu := make([]time.Duration, len(samples))
	var s stats
	for i, x := range samples {
		wall[i], cpu[i] = x.wall, x.cpu
		s.maxRSS = max(s.maxRSS, x.maxRSS)
		s.selfRSS = max(s.selfRSS, x.selfRSS)
	}
	slices.Sort(wall)
	s.min, s.max = wall[0], wall[len(wall)-1]
	s.median = median(wall)
	slices.Sort(cpu)
	s.cpu = median(cpu)
	var shares []float64
	for _, x := range samples {
		if x.wall > 0 {
			shares = append(shares, float64(x.cpu)/float64(x.wall))
		}
	}
	if n := len(shares); n > 0 {
		slices.Sort(shares)
		s.shareMin, s.shareMax = shares[0], shares[n-1]
		s.share = shares[n/2]
		if n%2 == 0 {
			s.share = (shares[n/2-1] + shares[n/2]) / 2
		}
	}
	return s
}

// median returns the middle of sorted d, or the mean of the middle two.
func median(d []time.Duration) time.Duration {
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

// ratio returns median(candidate)/median(baseline), or 0 if either has no runs.
func ratio(cand, base stats) float64 { return div(cand.median, base.median) }

// cpuRatio is ratio for the CPU time: less disturbed by a busy machine
// than the wall clock, it tells slow work from slow wake-ups.
func cpuRatio(cand, base stats) float64 { return div(cand.cpu, base.cpu) }

func div(a, b time.Duration) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// table is the report, one row per benchmark.
type table struct {
	header []string
	rows   [][]string
}

func newTable(results []result) table {
	t := table{header: []string{"benchmark", "gotask median (min–max)", "baseline median (min–max)", "ratio", "target", "result", "CPU ratio", "peak RSS gotask / baseline", "runs"}}
	for _, r := range results {
		c, b := summarize(r.candidate), summarize(r.baseline)
		row := []string{r.b.name, "–", "–", "–", r.b.target, "ERROR", "–", "–", strconv.Itoa(len(r.candidate))}
		switch {
		case r.skipped != "":
			row[5] = "skipped: " + r.skipped
		case r.err == nil:
			q, qs := limitRatio(r.b, c)
			if q == 0 {
				q = ratio(c, b)
			}
			verdict := "PASS"
			if q > r.b.ratioTarget {
				verdict = "MISS"
			}
			row[1], row[2] = formatStats(c), formatStats(b)
			if r.b.cpuShare > 0 {
				row[1], row[2] = formatShare(c), formatShare(b)
			}
			if r.b.hosts > 0 {
				row[1] += ", " + formatPerHost(c, r.b.hosts)
				row[2] += ", " + formatPerHost(b, r.b.hosts)
			}
			row[3] = fmt.Sprintf("%.2fx", q)
			if len(qs) > 1 {
				row[3] += " (" + strings.Join(qs, ", ") + ")"
			}
			row[5] = verdict
			row[6] = "?"
			if q := cpuRatio(c, b); q > 0 {
				row[6] = fmt.Sprintf("%.2fx", q)
			}
			row[7] = formatRSS(c) + " / " + formatRSS(b)
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// limitRatio returns the ratio of b's candidate figures c to b's limits
// (the largest, when there are several) and each ratio in words; 0 when
// b has no limit, and its verdict is the ratio of the medians.
func limitRatio(b *benchmark, c stats) (float64, []string) {
	var q float64
	var qs []string
	if b.cpuLimit > 0 && b.hosts > 0 {
		cq := div(c.cpu/time.Duration(b.hosts), b.cpuLimit)
		q = max(q, cq)
		qs = append(qs, fmt.Sprintf("CPU a host %.2fx", cq))
	}
	if b.cpuShare > 0 {
		sq := c.share / b.cpuShare
		q = max(q, sq)
		qs = append(qs, fmt.Sprintf("CPU %.2fx", sq))
	}
	if b.wallLimit > 0 {
		wq := div(c.median, b.wallLimit)
		q = max(q, wq)
		qs = append(qs, fmt.Sprintf("time %.2fx", wq))
	}
	if b.rssLimit > 0 {
		rq := float64(c.maxRSS) / float64(b.rssLimit)
		q = max(q, rq)
		qs = append(qs, fmt.Sprintf("RSS %.2fx", rq))
	}
	return q, qs
}

// formatShare prints s's CPU shares as percentages of one CPU: median
// (min–max).
func formatShare(s stats) string {
	pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }
	return fmt.Sprintf("CPU %s of one (%s–%s)", pct(s.share), pct(s.shareMin), pct(s.shareMax))
}

// formatPerHost prints s's median CPU time over hosts.
func formatPerHost(s stats, hosts int) string {
	return "CPU " + formatDuration(s.cpu/time.Duration(hosts)) + " a host"
}

func (t table) writeText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func (t table) writeMarkdown(w io.Writer) {
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	line := func(cells []string) {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = cell(c)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(out, " | "))
	}
	line(t.header)
	sep := make([]string, len(t.header))
	for i := range sep {
		sep[i] = "---"
		if i > 0 && i != 4 {
			sep[i] = "--:"
		}
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(sep, "|"))
	for _, r := range t.rows {
		line(r)
	}
}

func formatStats(s stats) string {
	return fmt.Sprintf("%s (%s–%s)", formatDuration(s.median), formatDuration(s.min), formatDuration(s.max))
}

// formatDuration prints d in ms or s with three significant digits.
func formatDuration(d time.Duration) string {
	if d >= time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', sigDecimals(d.Seconds()), 64) + " s"
	}
	ms := float64(d) / float64(time.Millisecond)
	return strconv.FormatFloat(ms, 'f', sigDecimals(ms), 64) + " ms"
}

// sigDecimals is how many decimals x needs for three significant digits.
func sigDecimals(x float64) int {
	switch {
	case x >= 100:
		return 0
	case x >= 10:
		return 1
	case x >= 1:
		return 2
	}
	return 3
}

// formatRSS prints s's peak RSS, as "≤ n" when it is no more than bench's
// own and so may be bench's memory rather than the command's.
func formatRSS(s stats) string {
	if s.maxRSS <= 0 {
		return "?"
	}
	mb := fmt.Sprintf("%.1f MB", float64(s.maxRSS)/1e6)
	if s.maxRSS <= s.selfRSS {
		return "≤ " + mb
	}
	return mb
}
