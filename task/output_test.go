package task

import (
	"context"
	"testing"
)

// TestWarnHideIsSilent: a Go task that runs a command with Warn() and
// Hide() handles the failure itself (it reads the result), so gotask
// prints no warning for it; without Hide() it does.
func TestWarnHideIsSilent(t *testing.T) {
	for _, tt := range []struct {
		name     string
		opts     []Option
		wantWarn bool
	}{
		{"warn and hide", []Option{Warn(), Hide()}, false},
		{"warn", []Option{Warn()}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var code int
			r := NewRegistry()
			r.MustAdd(Task{Name: "probe", Func: func(ctx context.Context, j *Job) error {
				res, err := j.Run(ctx, "echo checking; exit 3", tt.opts...)
				if err != nil {
					return err
				}
				code = res.ExitCode
				return nil
			}})
			x := runTasks(t, r, nil, Call{Name: "probe"})
			if x.err != nil {
				t.Fatalf("Run: %v", x.err)
			}
			if code != 3 {
				t.Errorf("the task saw exit code %d, want 3", code)
			}
			if got := x.stderr.String() != ""; got != tt.wantWarn {
				t.Errorf("stderr %q: warning printed %v, want %v", x.stderr.String(), got, tt.wantWarn)
			}
		})
	}
}
