package cli_test

import (
	"strings"
	"testing"

	"github.com/gotask/gotask/cli"
	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/task"
)

// TestColorPerStream: colour and the progress line are decided for each
// stream by whether that stream is a terminal. `gotask -H a,b t
// 2>err.txt` in a terminal must write no escape codes or carriage
// returns into err.txt, and the reverse for stdout; NO_COLOR turns
// colour off on both but leaves the progress line, which is not colour.
// Every colour ends before its line does.
func TestColorPerStream(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "web1", "web2")
	file := writeTasks(t, `
[tasks.t]
run = 'echo out; echo err >&2; [ $GOTASK_HOST = web1 ]'
`)
	tests := []struct {
		name               string
		streams            cli.Streams
		outColor, errColor bool
		progress           bool
	}{
		{"stdout a terminal, stderr a file", cli.Streams{OutTTY: true}, true, false, false},
		{"stderr a terminal, stdout a file", cli.Streams{ErrTTY: true}, false, true, true},
		{"both terminals", cli.Streams{OutTTY: true, ErrTTY: true}, true, true, true},
		{"both terminals, NO_COLOR", cli.Streams{OutTTY: true, ErrTTY: true, NoColor: true}, false, false, true},
		{"neither", cli.Streams{}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			streams := tt.streams
			streams.Out, streams.ErrOut = &stdout, &stderr
			args := []string{"-f", file, "-F", s.Config, "-H", "web1,web2", "t"}
			code := cli.Main(t.Context(), args, &streams, cli.WithRegistry(task.NewRegistry()))
			out, errOut := stdout.String(), stderr.String()
			t.Logf("exit %d\nstdout: %q\nstderr: %q", code, out, errOut)
			if code != 1 {
				t.Fatalf("exit %d, want 1 (web2 fails)", code)
			}
			// colour: an SGR sequence with a colour in it
			hasColor := func(s string) bool { return strings.Contains(s, "\x1b[3") || strings.Contains(s, "\x1b[9") }
			if got := hasColor(out); got != tt.outColor {
				t.Errorf("colour on stdout: %v, want %v", got, tt.outColor)
			}
			if got := hasColor(errOut); got != tt.errColor {
				t.Errorf("colour on stderr: %v, want %v", got, tt.errColor)
			}
			if got := strings.Contains(errOut, "\r\x1b[K"); got != tt.progress {
				t.Errorf("progress line on stderr: %v, want %v", got, tt.progress)
			}
			if !tt.errColor && !tt.progress && strings.ContainsAny(errOut, "\x1b\r") {
				t.Errorf("stderr is no terminal but holds escape codes or carriage returns")
			}
			for name, text := range map[string]string{"stdout": out, "stderr": errOut} {
				var sc screen
				sc.write([]byte(text))
				if sc.leaks > 0 {
					t.Errorf("%s: colour still on at %d line ends (a reset after its newline)", name, sc.leaks)
				}
			}
			if !tt.outColor && strings.ContainsAny(out, "\x1b\r") {
				t.Errorf("stdout is no terminal but holds escape codes or carriage returns")
			}
		})
	}
}
