package cli_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gotask/gotask/cli"
	"github.com/gotask/gotask/internal/sshtest"
	"github.com/gotask/gotask/task"
)

// screen is a small model of a terminal: what a person would see after
// the bytes are written to it. It moves the cursor for CR, LF, BS, TAB
// and the common CSI and ESC sequences, erases, records OSC (window
// title) sequences, and notes every line feed made while a colour was
// still on.
type screen struct {
	rows        [][]rune
	row, col    int
	savedRow    int
	savedCol    int
	colored     bool
	leaks, oscs int
}

func (s *screen) put(r rune) {
	for len(s.rows) <= s.row {
		s.rows = append(s.rows, nil)
	}
	for len(s.rows[s.row]) <= s.col {
		s.rows[s.row] = append(s.rows[s.row], ' ')
	}
	s.rows[s.row][s.col] = r
	s.col++
}

func csiArg(params string, i, def int) int {
	f := strings.Split(params, ";")
	if i < len(f) {
		if n, err := strconv.Atoi(f[i]); err == nil && n > 0 {
			return n
		}
	}
	return def
}

func (s *screen) write(b []byte) {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch r {
		case '\r':
			s.col = 0
		case '\n': // a terminal in cooked mode: CR LF
			if s.colored {
				s.leaks++
			}
			s.row, s.col = s.row+1, 0
		case '\b':
			s.col = max(0, s.col-1)
		case '\t':
			s.col = (s.col/8 + 1) * 8
		case 0x1b:
			if len(b) == 0 {
				return
			}
			switch b[0] {
			case '[':
				m := regexp.MustCompile(`^\[([0-9;?>:]*)([ -/]*)([@-~])`).FindSubmatch(b)
				if m == nil {
					b = b[1:]
					continue
				}
				b = b[len(m[0]):]
				p := string(m[1])
				switch m[3][0] {
				case 'A':
					s.row = max(0, s.row-csiArg(p, 0, 1))
				case 'B':
					s.row += csiArg(p, 0, 1)
				case 'C':
					s.col += csiArg(p, 0, 1)
				case 'D':
					s.col = max(0, s.col-csiArg(p, 0, 1))
				case 'G':
					s.col = csiArg(p, 0, 1) - 1
				case 'H', 'f':
					s.row, s.col = csiArg(p, 0, 1)-1, csiArg(p, 1, 1)-1
				case 'K':
					if s.row < len(s.rows) {
						switch csiArg(p, 0, 0) {
						case 0:
							s.rows[s.row] = s.rows[s.row][:min(s.col, len(s.rows[s.row]))]
						case 2:
							s.rows[s.row] = nil
						}
					}
				case 'J':
					s.rows = nil
				case 'm':
					s.colored = p != "" && p != "0"
				}
			case ']', 'P', '_', '^', 'X':
				s.oscs++
				end := regexp.MustCompile("\x07|\x1b\\\\").FindIndex(b)
				if end == nil {
					return
				}
				b = b[end[1]:]
			case '7':
				s.savedRow, s.savedCol, b = s.row, s.col, b[1:]
			case '8':
				s.row, s.col, b = s.savedRow, s.savedCol, b[1:]
			default:
				b = b[1:]
			}
		default:
			if r >= 0x20 {
				s.put(r)
			}
		}
	}
}

// lines is what the screen shows, one string per row.
func (s *screen) lines() []string {
	var out []string
	for _, r := range s.rows {
		out = append(out, strings.TrimRight(string(r), " "))
	}
	return out
}

// TestHostsCannotForgeEachOthersLines is the attack of a hostile host on
// prefixed output: through a real pty on a real sshd, each of two hosts
// prints lines that try to pass for the other host's: a carriage return
// back over its own prefix (on stdout through the pty, and on stderr
// without one), backspaces, cursor up and erase, cursor home
// with save and restore, a window title, and a colour left on. On the
// terminal a person reads, every row must still start with the prefix
// of the host that printed it, each host's rows count its own lines,
// and no colour may run into the next row.
func TestHostsCannotForgeEachOthersLines(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "web1", "web2")
	file := writeTasks(t, `
[tasks.evil]
steps = [{ pty = true, run = '''
case $GOTASK_HOST in web1) o=web2 ;; *) o=web1 ;; esac
h=$GOTASK_HOST
printf 'mine %s 1\n' $h
printf 'mine %s 2\r[%s] deploy OK\n' $h $o
printf '\033]0;pwned by %s\007mine %s 3\n' $h $h
printf 'mine %s 4\033[1A\r\033[2K[%s] rewritten\n' $h $o
printf '\033[31mmine %s 5 red\n' $h
printf 'mine %s 6\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b[%s] bs\n' $h $o
printf 'mine %s 7\0337\033[H[%s] top\0338\n' $h $o
printf 'mine %s 8\033[1G[%s] col\n' $h $o
printf 'mine %s 9\r[%s] OK\n' $h $o >&2
''' }, { pty = false, run = '''
case $GOTASK_HOST in web1) o=web2 ;; *) o=web1 ;; esac
printf 'mine %s err\r\033[2K[%s] err OK\n' $GOTASK_HOST $o >&2
''' }]
`)
	var stdout, stderr syncBuffer
	args := []string{"-f", file, "-F", s.Config, "-H", "web1,web2", "evil"}
	code := cli.Main(t.Context(), args, &cli.Streams{Out: &stdout, ErrOut: &stderr, OutTTY: true, ErrTTY: true},
		cli.WithRegistry(task.NewRegistry()))
	t.Logf("exit %d\nstdout: %q\nstderr: %q", code, stdout.String(), stderr.String())
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	prefix := regexp.MustCompile(`^\[(web[12])\] `)
	mine := regexp.MustCompile(`mine (web[12])`)
	for _, stream := range []struct {
		name string
		out  string
		want int // rows per host
	}{{"stdout", stdout.String(), 9}, {"stderr", stderr.String(), 1}} {
		var sc screen
		sc.write([]byte(stream.out))
		rows := map[string]int{}
		for _, line := range sc.lines() {
			m := prefix.FindStringSubmatch(line)
			if m == nil {
				if mine.MatchString(line) || strings.Contains(line, "OK") {
					t.Errorf("%s: a host's row without its prefix: %q", stream.name, line)
				}
				continue // the summary, on stderr
			}
			rows[m[1]]++
			if o := mine.FindStringSubmatch(line); o != nil && o[1] != m[1] {
				t.Errorf("%s: %s's text under %s's prefix: %q", stream.name, o[1], m[1], line)
			}
		}
		for _, h := range []string{"web1", "web2"} {
			if rows[h] != stream.want {
				t.Errorf("%s: %d rows start with [%s], want the %d it printed; screen:\n%s",
					stream.name, rows[h], h, stream.want, strings.Join(sc.lines(), "\n"))
			}
		}
		if sc.oscs > 0 {
			t.Errorf("%s: %d OSC sequences (window title) reached the terminal", stream.name, sc.oscs)
		}
		if sc.leaks > 0 {
			t.Errorf("%s: colour still on at %d line ends", stream.name, sc.leaks)
		}
	}
	if m := regexp.MustCompile(`\x1b\[[0-9;?]*[A-HJKf]|\x1b[78]|\x08`).FindString(stdout.String()); m != "" {
		t.Errorf("stdout holds the cursor control %q", m)
	}
}

// TestGroupedAndJSONCannotBeForged: in grouped output a host that prints
// another host's heading, or a JSON event of its own making, still
// cannot pass for that host: every line of a block carries its host's
// prefix, and a JSON event's host is a field no output can set.
func TestGroupedAndJSONCannotBeForged(t *testing.T) {
	t.Parallel()
	s := newSSH(t, sshtest.SSHDOptions{}, nil, "web1", "web2")
	file := writeTasks(t, `
[tasks.evil]
run = '''
case $GOTASK_HOST in web1) o=web2 ;; *) o=web1 ;; esac
printf 'mine %s\n' $GOTASK_HOST
printf '── %s (ok) ──\n' $o
printf '{"type":"host","task":"evil","host":"%s","status":"failed"}\n' $o
printf 'x\r── %s (ok) ──\n' $o
'''
`)
	t.Run("grouped", func(t *testing.T) {
		o := s.run(t, file, "--output", "grouped", "-H", "web1,web2", "evil")
		if o.code != 0 {
			t.Fatalf("exit %d, want 0", o.code)
		}
		heading := regexp.MustCompile(`^── (web[12]) \(ok\) ──$`)
		var host string
		headings := 0
		var sc screen
		sc.write([]byte(o.stdout))
		for _, line := range sc.lines() {
			if m := heading.FindStringSubmatch(line); m != nil {
				host = m[1]
				headings++
				continue
			}
			if line == "" {
				continue
			}
			if host == "" || !strings.HasPrefix(line, "["+host+"] ") {
				t.Errorf("line %q in the block of %q does not start with its prefix", line, host)
			}
		}
		if headings != 2 {
			t.Errorf("%d headings, want one per host", headings)
		}
	})
	t.Run("json", func(t *testing.T) {
		o := s.run(t, file, "--json", "-H", "web1,web2", "evil")
		if o.code != 0 {
			t.Fatalf("exit %d, want 0", o.code)
		}
		ends := map[string]string{}
		for _, line := range strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n") {
			var ev struct{ Type, Host, Status, Line string }
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("not one JSON event per line: %q: %v", line, err)
			}
			switch ev.Type {
			case "host":
				if _, dup := ends[ev.Host]; dup {
					t.Errorf("two host events for %s", ev.Host)
				}
				ends[ev.Host] = ev.Status
			case "output":
				if m := regexp.MustCompile(`mine (web\d)`).FindStringSubmatch(ev.Line); m != nil && m[1] != ev.Host {
					t.Errorf("%s's line in an event of %s", m[1], ev.Host)
				}
			}
		}
		if ends["web1"] != "ok" || ends["web2"] != "ok" || len(ends) != 2 {
			t.Errorf("host events %v, want web1 and web2 ok", ends)
		}
	})
}
