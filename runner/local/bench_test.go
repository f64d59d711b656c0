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
// machine.

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
	start, startCsw := cpuTime()
	for b.Loop() {
		if _, err := r.Run(b.Context(), cmd); err != nil {
			b.Fatal(err)
		}
	}
	end, endCsw := cpuTime()
	b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(endCsw-startCsw)/float64(b.N), "csw/op")
}

// cpuTime is the CPU time used so far by this process and its waited-for
// children, and their context switches.
func cpuTime() (time.Duration, int64) {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	var d time.Duration
	var csw int64
	for _, ru := range []*syscall.Rusage{&self, &children} {
		d += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		csw += ru.Nvcsw + ru.Nivcsw
	}
	return d, csw
}
