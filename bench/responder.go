package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/gotask/gotask/responder"
)

// responderBenchmarks measures what a responder costs a command whose
// output it watches: DESIGN.md section 7 allows it under 5%.
func responderBenchmarks() []benchmark {
	const size = 20_000_000
	return []benchmark{
		{
			name:        "responder/pty-20MB-watched",
			target:      "< 1.05x the same task with no responder",
			ratioTarget: 1.05,
			runs:        21,
			setup: func(ctx context.Context, e *env) error {
				if err := e.writeTasks(responderTasksTOML(size)); err != nil {
					return err
				}
				// The responder is wired in: it answers a real prompt...
				c := e.command(ctx, e.gotask, "-f", "tasks.toml", "asks")
				var out bytes.Buffer
				c.Stdout = &out
				if _, err := timeCmd(c); err != nil {
					return fmt.Errorf("the responder did not answer its prompt: %w", err)
				}
				if !strings.Contains(out.String(), "answered y") {
					return fmt.Errorf("the responder did not answer its prompt; output %q", out.String())
				}
				// ...and the output it watches, where its pattern never
				// matches, arrives byte-exact.
				c = e.command(ctx, e.gotask, "-f", "tasks.toml", "watched")
				cnt := &countWriter{}
				c.Stdout = cnt
				if _, err := timeCmd(c); err != nil {
					return err
				}
				if cnt.n != size || cnt.other != 0 {
					return fmt.Errorf("gotask wrote %d bytes, %d of them not 'x'; want %d, all 'x'", cnt.n, cnt.other, size)
				}
				// What the responder itself costs, free of the noise of
				// whole runs: the same bytes through Watch in chunks of
				// the size a pty read returns.
				const chunk = 4096
				r := &responder.Responder{Pattern: regexp.MustCompile(responderPattern), Response: "y\n"}
				buf := bytes.Repeat([]byte{'x'}, chunk)
				start := time.Now()
				for range size / chunk {
					if err := r.Watch(responder.Stdout, buf, io.Discard); err != nil {
						return err
					}
				}
				e.notef("in process, the responder's Watch takes %s for the %d MB, in %d-byte chunks",
					formatDuration(time.Since(start)), size/1_000_000, chunk)
				return nil
			},
			candidate: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "watched")
			},
			baseline: func(ctx context.Context, e *env) (sample, error) {
				return e.time(ctx, e.gotask, "-f", "tasks.toml", "plain")
			},
		},
	}
}

// responderPattern is the prompt the responder watches for.
const responderPattern = `Continue\? \[y/N\]`

// responderTasksTOML defines watched and plain, which write size bytes
// through a pseudo-terminal, watched with a responder whose pattern never
// matches that output, and asks, whose prompt the same responder answers.
func responderTasksTOML(size int) string {
	responders := "responders = [{ pattern = '" + responderPattern + "', response = \"y\\n\" }]\n"
	return fmt.Sprintf("[tasks.watched]\npty = true\nrun = %s\n%s\n", tomlString(outputCommand(size)), responders) +
		fmt.Sprintf("[tasks.plain]\npty = true\nrun = %s\n\n", tomlString(outputCommand(size))) +
		fmt.Sprintf("[tasks.asks]\npty = true\nrun = %s\n%s", tomlString(`printf 'Continue? [y/N] '; read a; echo "answered $a"; [ "$a" = y ]`), responders)
}
