package local

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/gotask/gotask/runner"
)

// The benchmarks run `true` on a pseudo-terminal, as bench's
// local/pty-100-commands does, and report the CPU time of gotask and its
// children per command (cpu-ns/op), steadier than wall time on a busy
// machine, and of gotask alone (self-ns/op): the part a runner can change.
// Run them with -test.timeout 0 (go test -timeout 0): the alarm of a
// test timeout is a pending timer, which keeps an idle runtime thread in
// the poller for every new terminal to wake.

func BenchmarkPtyForced(b *testing.B) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	benchmarkRun(b, &runner.Cmd{Command: "true", Pty: runner.PtyOn, Stdin: devnull})
}

func BenchmarkPtyTerminal(b *testing.B) {
	// gotask's stdin is the slave of a terminal nobody types into.
	ptmx, tty, err := pty.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	benchmarkRun(b, &runner.Cmd{Command: "true", Stdin: tty})
}

func BenchmarkPipes(b *testing.B) {
	benchmarkRun(b, &runner.Cmd{Command: "true", Pty: runner.PtyOff})
}

func benchmarkRun(b *testing.B, cmd *runner.Cmd) {
	r := New()
	start, startSelf, startCsw := cpuTime()
	for b.Loop() {
		if _, err := r.Run(b.Context(), cmd); err != nil {
			b.Fatal(err)
		}
	}
	end, endSelf, endCsw := cpuTime()
	b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(endSelf-startSelf)/float64(b.N), "self-ns/op")
	b.ReportMetric(float64(endCsw-startCsw)/float64(b.N), "csw/op")
}

// cpuTime is the CPU time used so far by this process and its waited-for
// children, that of this process alone, and the context switches of
// both.
func cpuTime() (all, self time.Duration, csw int64) {
	var ruSelf, ruChildren syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ruSelf)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ruChildren)
	for _, ru := range []*syscall.Rusage{&ruSelf, &ruChildren} {
		all += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		csw += ru.Nvcsw + ru.Nivcsw
	}
	self = time.Duration(ruSelf.Utime.Nano() + ruSelf.Stime.Nano())
	return all, self, csw
}
