// Command bench measures gotask against the physical baselines of
// DESIGN.md section 7 and prints, for each benchmark, the median, min and
// max of repeated runs and the ratio of the medians measured in the same
// run.
//
//	go run ./bench                       all benchmarks
//	go run ./bench -run pty -count 3     those whose name matches, 3 runs each
//	go run ./bench -markdown             the table as Markdown, for the README
//	go run ./bench -gotask /tmp/gotask   measure that binary instead of building one
//
// Each benchmark belongs to a group with a file of its own (local.go,
// and later remote.go, fanout.go, ...) and a function that returns the
// group's benchmarks; benchmarks() lists those functions. To add a group,
// write the file and add its function there.
//
// Candidate and baseline runs are interleaved, alternating which goes
// first, so that machine noise hits both alike. A MISS is reported, not
// turned into an exit status: times are for people to read, not for tests
// to assert. The exit status is 1 only when a benchmark could not run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"syscall"
)

// benchmarks returns every benchmark, group by group.
func benchmarks() []benchmark {
	var all []benchmark
	all = append(all, localBenchmarks()...)
	all = append(all, responderBenchmarks()...)
	all = append(all, uptodateBenchmarks()...)
	all = append(all, gotasksBenchmarks()...)
	all = append(all, remoteBenchmarks()...)
	all = append(all, fanoutBenchmarks()...)
	all = append(all, servicesBenchmarks()...)
	return all
}

type options struct {
	run      *regexp.Regexp
	count    int // 0: each benchmark's own
	markdown bool
	keep     bool   // keep the temporary directories, to profile by hand
	gotask   string // a gotask binary to measure instead of building one
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainCode(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func mainCode(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runFlag := fs.String("run", "", "run only the benchmarks whose name matches this regular expression")
	count := fs.Int("count", 0, "runs of candidate and of baseline per benchmark (default: each benchmark's own)")
	markdown := fs.Bool("markdown", false, "print the table as Markdown")
	keep := fs.Bool("keep", false, "keep the gotask binary and each benchmark's directory, and print where they are")
	gotask := fs.String("gotask", "", "measure this gotask binary (a release build, say) instead of building ./cmd/gotask")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	re, err := regexp.Compile(*runFlag)
	if err != nil {
		fmt.Fprintf(stderr, "bench: -run: %v\n", err)
		return 2
	}
	if *count < 0 {
		fmt.Fprintln(stderr, "bench: -count must be at least 1")
		return 2
	}
	opts := options{run: re, count: *count, markdown: *markdown, keep: *keep, gotask: *gotask}
	if err := run(ctx, opts, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, opts options, stdout, stderr io.Writer) error {
	var selected []benchmark
	for _, b := range benchmarks() {
		if opts.run.MatchString(b.name) {
			selected = append(selected, b)
		}
	}
	if len(selected) == 0 {
		return fmt.Errorf("no benchmark matches -run %q", opts.run)
	}

	// The load before bench starts is other people's: bench's own
	// benchmarks (50 ssh processes, say) raise it by the end.
	startLoad, haveLoad := loadAverage()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "gotask-bench-")
	if err != nil {
		return err
	}
	if opts.keep {
		fmt.Fprintf(stderr, "bench: keeping %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	bin := filepath.Join(tmp, "gotask")
	if opts.gotask != "" {
		if bin, err = filepath.Abs(opts.gotask); err != nil {
			return err
		}
	} else {
		// Built as the README installs it: static, without cgo.
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/gotask")
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build gotask in %s: %w", root, err)
		}
	}

	var results []result
	var failed bool
	for _, b := range selected {
		fmt.Fprintf(stderr, "bench: %s\n", b.name)
		r := measure(ctx, b, bin, tmp, opts.count, opts.keep)
		if r.err != nil {
			failed = true
		}
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}

	what := "built from " + root + " with CGO_ENABLED=0"
	if opts.gotask != "" {
		what = bin
	}
	fmt.Fprintf(stdout, "gotask %s; %s %s/%s, %d CPUs; runs interleaved; times are wall clock.\n",
		what, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if endLoad, ok := loadAverage(); ok && haveLoad {
		fmt.Fprintf(stdout, "Load average: %.1f at the start, %.1f at the end.", startLoad, endLoad)
		if startLoad > float64(runtime.NumCPU()) {
			fmt.Fprint(stdout, " The machine was busy: wall-clock ratios are unreliable; compare the CPU ratios, or run again when it is quiet.")
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout)
	t := newTable(results)
	if opts.markdown {
		t.writeMarkdown(stdout)
	} else {
		t.writeText(stdout)
	}
	for _, r := range results {
		for _, n := range r.notes {
			fmt.Fprintf(stdout, "- %s: %s\n", r.b.name, n)
		}
		if r.err != nil {
			fmt.Fprintf(stdout, "- %s: ERROR: %v\n", r.b.name, r.err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if failed {
		return errors.New("some benchmarks could not run")
	}
	return nil
}

// loadAverage returns the one-minute load average, where Linux tells it.
func loadAverage() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	var load float64
	if _, err := fmt.Sscan(string(b), &load); err != nil {
		return 0, false
	}
	return load, true
}

// moduleRoot returns the nearest directory, from the working directory
// up, that holds go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !st.IsDir() {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or any parent directory; run bench from inside the gotask module", wd)
		}
	}
}
