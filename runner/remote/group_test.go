package remote

import (
	"strings"
	"testing"
)

// TestPIDScanner: the report is taken out of the stream wherever the
// chunks split it, output before it (a login script's) passes through,
// and nothing after it is looked at: a command cannot report a group.
func TestPIDScanner(t *testing.T) {
	const nonce = "0123abcd"
	tests := []struct {
		name, in, out string
		pid           int
		shell         string
	}{
		{"report only", "gotask-pid 0123abcd 4242\n", "", 4242, ""},
		{"with shell and output", "gotask-pid 0123abcd 77 /usr/bin/fish\nhello\n", "hello\n", 77, "/usr/bin/fish"},
		{"pty line end", "gotask-pid 0123abcd 77\r\nhi\r\n", "hi\r\n", 77, ""},
		{"login script output first", "welcome gotask-pid\ngotask-pid 0123abcd 5\nout", "welcome gotask-pid\nout", 5, ""},
		{"wrong nonce is output", "gotask-pid ffffffff 5\nout", "gotask-pid ffffffff 5\nout", 0, ""},
		{"a second report is output", "gotask-pid 0123abcd 5\ngotask-pid 0123abcd 6\n", "gotask-pid 0123abcd 6\n", 5, ""},
		{"never -1 or 1", "gotask-pid 0123abcd 1\nx", "x", 0, ""},
		{"not a number", "gotask-pid 0123abcd -1\nx", "x", 0, ""},
		{"no report", "plain output, no newline", "plain output, no newline", 0, ""},
		{"report cut off", "gotask-pid 0123abcd 12", "gotask-pid 0123abcd 12", 0, ""},
		{"endless line is output", "gotask-pid 0123abcd " + strings.Repeat("9", 600), "gotask-pid 0123abcd " + strings.Repeat("9", 600), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for size := 1; size <= len(tt.in); size++ {
				pid, shell := 0, ""
				s := newPIDScanner(nonce, func(p int, sh string) { pid, shell = p, sh })
				var out []byte
				for in := tt.in; in != ""; {
					n := min(size, len(in))
					out = append(out, s.filter([]byte(in[:n]))...)
					in = in[n:]
				}
				out = append(out, s.flush()...)
				if string(out) != tt.out || pid != tt.pid || shell != tt.shell {
					t.Fatalf("chunks of %d: output %q, pid %d, shell %q; want %q, %d, %q", size, out, pid, shell, tt.out, tt.pid, tt.shell)
				}
			}
		})
	}
}
