package task

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestBatches: serial as a list is read as canary batches, the last size
// repeating, percentages of all the hosts rounded down but never below
// one host.
func TestBatches(t *testing.T) {
	tests := []struct {
		serial string
		total  int
		want   []int
	}{
		{serial: `[1, "10%", "50%", "100%"]`, total: 20, want: []int{1, 2, 10, 7}},
		{serial: `[1, "10%", "50%", "100%"]`, total: 3, want: []int{1, 1, 1}},
		{serial: `[1, "10%"]`, total: 25, want: []int{1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}},
		{serial: `[2, 5]`, total: 13, want: []int{2, 5, 5, 1}},
		{serial: `["100%"]`, total: 4, want: []int{4}},
		{serial: `3`, total: 7, want: []int{3, 3, 1}},
		{serial: `0`, total: 7, want: []int{7}},
		{serial: `[1, "100%"]`, total: 1, want: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.serial, func(t *testing.T) {
			r := NewRegistry()
			if err := r.LoadBytes("tasks.toml", []byte("[tasks.x]\nrun = \"true\"\nserial = "+tt.serial+"\n")); err != nil {
				t.Fatal(err)
			}
			x, _ := r.Lookup("x")
			if got := batches(x, tt.total); !slices.Equal(got, tt.want) {
				t.Errorf("batches of %d hosts = %v, want %v", tt.total, got, tt.want)
			}
		})
	}
}

// TestBatchesLoadErrors: every bad serial entry and max_fail_percent is
// reported where it is, saying what is accepted.
func TestBatchesLoadErrors(t *testing.T) {
	const batchMsg = `must be a number of hosts (at least 1) or a percentage from "1%" to "100%", like "10%"`
	tests := []struct {
		doc  string
		want []string
	}{
		{
			doc: "[tasks.x]\nrun = \"true\"\nserial = [0, \"10\", \"0%\", \"101%\", \"NaN%\", 1.5, \"5%\"]\n",
			want: []string{
				`tasks.toml:3:11: task "x": serial batch 1 ` + batchMsg,
				`tasks.toml:3:14: task "x": serial batch 2 ` + batchMsg,
				`tasks.toml:3:20: task "x": serial batch 3 ` + batchMsg,
				`tasks.toml:3:26: task "x": serial batch 4 ` + batchMsg,
				`tasks.toml:3:34: task "x": serial batch 5 ` + batchMsg,
				`tasks.toml:3:42: task "x": serial batch 6 ` + batchMsg,
			},
		},
		{
			doc:  "[tasks.x]\nrun = \"true\"\nserial = []\n",
			want: []string{`tasks.toml:3:1: task "x": serial must not be an empty list; leave it out to run every host at once`},
		},
		{
			doc:  "[tasks.x]\nrun = \"true\"\nserial = \"10%\"\n",
			want: []string{`tasks.toml:3:1: task "x": serial must be a number of hosts or a list of batch sizes like [1, "10%", "100%"]`},
		},
		{
			doc:  "[tasks.x]\nrun = \"true\"\nserial = -1\n",
			want: []string{`tasks.toml:3:1: task "x": serial must not be negative`},
		},
		{
			doc:  "[tasks.x]\nrun = \"true\"\nserial = [1]\nmax_fail_percent = 101\n",
			want: []string{`tasks.toml:4:1: task "x": max_fail_percent must be a number from 0 to 100`},
		},
		{
			doc:  "[tasks.x]\nrun = \"true\"\nserial = [1]\nmax_fail_percent = \"10%\"\n",
			want: []string{`tasks.toml:4:1: task "x": max_fail_percent must be a number from 0 to 100`},
		},
		{
			doc:  "[tasks.x]\nrun = \"true\"\nserial = [1]\nmax_fail_percent = nan\n",
			want: []string{`tasks.toml:4:1: task "x": max_fail_percent must be a number from 0 to 100`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			err := NewRegistry().LoadBytes("tasks.toml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("LoadBytes succeeded, want %q", tt.want)
			}
			if got := err.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("LoadBytes error:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestBatchesGoTask: a Go task's batches are checked as tasks.toml's
// are, so that a size of zero can never leave hosts unrun (or loop).
func TestBatchesGoTask(t *testing.T) {
	bad := -1.0
	for _, tt := range []Task{
		{Name: "a", Func: noop, Batches: []string{"1", "0"}},
		{Name: "b", Func: noop, Batches: []string{"x"}},
		{Name: "c", Func: noop, Batches: []string{"0%"}},
		{Name: "d", Func: noop, Batches: []string{"1"}, MaxFailPercent: &bad},
	} {
		if err := NewRegistry().Add(tt); err == nil {
			t.Errorf("Add(batches %q, max_fail_percent %v) succeeded, want an error", tt.Batches, tt.MaxFailPercent)
		}
	}
	if err := NewRegistry().Add(Task{Name: "ok", Func: noop, Batches: []string{"1", "10%", "100%"}}); err != nil {
		t.Errorf("Add(valid batches): %v", err)
	}
}

func noop(context.Context, *Job) error { return nil }
