package main

import (
	"strings"
	"testing"

	"github.com/gotask/gotask/task"
	"github.com/gotask/gotask/task/tasktest"
)

// The Go tasks are unit-tested with package tasktest: no du, no host.

func lookup(t *testing.T, name string) task.Task {
	t.Helper()
	tk, ok := registry().Lookup(name)
	if !ok {
		t.Fatalf("no task %q", name)
	}
	return *tk
}

func TestBiggest(t *testing.T) {
	j, err := tasktest.New(lookup(t, "biggest"), tasktest.Config{
		Args: map[string]string{"dir": "my files", "top": "2"},
		Results: map[string]tasktest.Result{
			"du -a -k 'my files'": {Stdout: "4\tmy files/a\n120\tmy files/big\n8\tmy files/b\n132\tmy files\n"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := biggest(t.Context(), j.Job); err != nil {
		t.Fatal(err)
	}
	want := "     132 KiB  my files\n     120 KiB  my files/big\n"
	if got := j.Output(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestUptimeJSON(t *testing.T) {
	tk := lookup(t, "uptime-json")
	j, err := tasktest.New(tk, tasktest.Config{
		Host:    "web1",
		Results: map[string]tasktest.Result{"cat /proc/uptime": {Stdout: "350735.47 234388.90\n"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Func(t.Context(), j.Job); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(j.Output()), `{"host":"web1","uptime_seconds":"350735.47"}`; got != want {
		t.Errorf("output %s, want %s", got, want)
	}
}
