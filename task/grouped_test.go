package task

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gotask/gotask/output"
	"github.com/gotask/gotask/runner"
	"github.com/gotask/gotask/runner/local"
)

// blockProbe is the Stdout of a grouped run. When the first block
// arrives it measures what the process holds: the live heap after a
// collection, and the temporary files it has open.
type blockProbe struct {
	bytes.Buffer
	probed    bool
	heap      uint64
	tempFiles []string // "path mode"
}

func (p *blockProbe) Write(b []byte) (int, error) {
	if !p.probed {
		p.probed = true
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		p.heap = ms.HeapAlloc
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			path := filepath.Join("/proc/self/fd", fd.Name())
			target, err := os.Readlink(path)
			if err != nil || !strings.Contains(target, "gotask-grouped-") {
				continue
			}
			if fi, err := os.Stat(path); err == nil {
				p.tempFiles = append(p.tempFiles, target+" "+fi.Mode().Perm().String())
			}
		}
	}
	return p.Buffer.Write(b)
}

// TestGroupedOutputIsBoundedInMemory: with --output grouped, two hosts
// that print 48 MB each before either is shown must not be held in
// memory (they were, whole: 1.45 GB of RSS for 2 x 200 MB). Past a bound
// the output waits in a temporary file, private (0600) and already
// removed from its directory, and every byte still comes out, in order,
// with its prefix. The hosts are this machine, through the real local
// runner.
func TestGroupedOutputIsBoundedInMemory(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	const lines = 48_000
	text := strings.Repeat("x", 999)
	r := NewRegistry()
	r.MustAdd(Task{Name: "big", Hosts: []string{"h1", "h2"},
		Steps: sh(`yes "$(head -c 999 /dev/zero | tr '\0' x)" | head -n 48000`)})
	r.Dir = t.TempDir()
	var probe blockProbe
	e := &Executor{Registry: r, Local: local.New(), Stdout: &probe, NoPty: true,
		Output: output.New(&probe, nil, output.Options{Mode: output.Grouped}),
		Remote: ConnectFunc(func(context.Context, string) (runner.Runner, error) { return local.New(), nil })}
	if err := e.Run(t.Context(), Call{Name: "big"}); err != nil {
		t.Fatal(err)
	}
	if probe.heap > 16<<20 {
		t.Errorf("live heap %d MB when the first block was written: the output is held in memory", probe.heap>>20)
	}
	if len(probe.tempFiles) == 0 {
		t.Errorf("no temporary file open when the first block was written")
	}
	for _, f := range probe.tempFiles {
		if !strings.HasPrefix(f, tmp+"/") || !strings.HasSuffix(f, " (deleted) -rw-------") {
			t.Errorf("temporary file %q: want in $TMPDIR, removed, mode 0600", f)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("temporary files left in $TMPDIR: %v", left)
	}
	out := probe.String()
	for range 2 {
		head, rest, _ := strings.Cut(out, "\n")
		host := strings.TrimSuffix(strings.TrimPrefix(head, "── "), " (ok) ──")
		if host != "h1" && host != "h2" {
			t.Fatalf("heading %q, want one for h1 or h2", head)
		}
		want := strings.Repeat("["+host+"] "+text+"\n", lines)
		if !strings.HasPrefix(rest, want) {
			t.Fatalf("block of %s: not %d lines of its prefix and its text", host, lines)
		}
		out = rest[len(want):]
	}
	if out != "" {
		t.Errorf("%d bytes after the two blocks", len(out))
	}
}
