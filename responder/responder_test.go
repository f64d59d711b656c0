package responder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// lockedBuffer is a stdin that several stream goroutines may write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// answers feeds chunks, all on stream, and returns how many responses
// were written.
func answers(t *testing.T, w Watcher, response string, stream Stream, chunks ...string) int {
	t.Helper()
	var stdin bytes.Buffer
	for _, c := range chunks {
		if err := w.Watch(stream, []byte(c), &stdin); err != nil {
			t.Fatalf("Watch(%q): %v", c, err)
		}
	}
	return strings.Count(stdin.String(), response)
}

var splitCases = []struct {
	name    string
	pattern string
	prompt  string
}{
	{"literal", `Password: `, "Password: "},
	{"unbounded with prefix", `\[sudo\] password for \w+: `, "[sudo] password for deploy: "},
	{"case folded", `(?i)continue\? \[y/n\] `, "Continue? [Y/n] "},
	{"non-ASCII", `Passwort für [^:]+: `, "Passwort für Jörg: "},
}

func TestResponderAnswersPromptSplitAnywhere(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			out := "building...\nstep 2 done\n" + tc.prompt
			newR := func() *Responder {
				return &Responder{Pattern: regexp.MustCompile(tc.pattern), Response: "ANSWER\n"}
			}
			if n := answers(t, newR(), "ANSWER\n", Stdout, out); n != 1 {
				t.Fatalf("whole output: %d answers, want 1", n)
			}
			for i := 0; i <= len(out); i++ {
				for j := i; j <= len(out); j++ {
					if n := answers(t, newR(), "ANSWER\n", Stdout, out[:i], out[i:j], out[j:]); n != 1 {
						t.Fatalf("split at %d and %d (%q|%q|%q): %d answers, want 1",
							i, j, out[:i], out[i:j], out[j:], n)
					}
				}
			}
			bytewise := make([]string, len(out))
			for i := range len(out) {
				bytewise[i] = out[i : i+1]
			}
			if n := answers(t, newR(), "ANSWER\n", Stdout, bytewise...); n != 1 {
				t.Fatalf("one byte at a time: %d answers, want 1", n)
			}
		})
	}
}

func TestResponderAnswersEachNewOccurrence(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		chunks  []string
		want    int
	}{
		{"repeated in separate chunks", `Continue\? `, []string{"Continue? ", "Continue? ", "Continue? "}, 3},
		{"repeated in one chunk", `Continue\? `, []string{"Continue? Continue? "}, 2},
		{"repeated with output between", `Continue\? `, []string{"Continue? ", "ok\n", "Continue? "}, 2},
		{"repeated and split", `Continue\? `, []string{"Conti", "nue? Con", "tinue? "}, 2},
		{"old output is not answered again", `Password: `, []string{"Password: ", "", "\n", "x", "ok\n"}, 1},
		{"consumed bytes do not join new ones", `aa`, []string{"aa", "a"}, 1},
		{"consumed bytes do not join new ones, unbounded", `(?s)Password:.*\n`, []string{"Password: x\n", "\n", "more\n"}, 1},
		{"matched tail is consumed", `ab`, []string{"xab", "b", "ab"}, 2},
		{"no match", `Password: `, []string{"password: ", "Password:", "\n"}, 0},
		{"empty matches are ignored", `x*`, []string{"abc", "def"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Responder{Pattern: regexp.MustCompile(tc.pattern), Response: "<answer>"}
			if got := answers(t, r, "<answer>", Stdout, tc.chunks...); got != tc.want {
				t.Errorf("%q: %d answers, want %d", tc.chunks, got, tc.want)
			}
		})
	}
}

func TestResponderKeepsStreamsApart(t *testing.T) {
	pattern := regexp.MustCompile(`Password: `)
	t.Run("prompt split across streams is not a prompt", func(t *testing.T) {
		r := &Responder{Pattern: pattern, Response: "pw\n"}
		var stdin bytes.Buffer
		for _, c := range []struct {
			s Stream
			b string
		}{{Stdout, "Pass"}, {Stderr, "word: "}, {Stdout, "\n"}} {
			if err := r.Watch(c.s, []byte(c.b), &stdin); err != nil {
				t.Fatal(err)
			}
		}
		if stdin.Len() != 0 {
			t.Errorf("answered %q, want nothing", stdin.String())
		}
	})
	t.Run("each stream split at a different place", func(t *testing.T) {
		r := &Responder{Pattern: pattern, Response: "pw\n"}
		var stdin bytes.Buffer
		steps := []struct {
			s Stream
			b string
		}{{Stdout, "Pass"}, {Stderr, "Passwo"}, {Stdout, "word: "}, {Stderr, "rd: "}}
		for _, c := range steps {
			if err := r.Watch(c.s, []byte(c.b), &stdin); err != nil {
				t.Fatal(err)
			}
		}
		if got := stdin.String(); got != "pw\npw\n" {
			t.Errorf("answered %q, want two answers", got)
		}
	})
	t.Run("concurrent streams", func(t *testing.T) {
		const prompts = 200
		r := &Responder{Pattern: pattern, Response: "pw\n"}
		var stdin lockedBuffer
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, s := range []Stream{Stdout, Stderr} {
			wg.Go(func() {
				for range prompts {
					for _, part := range []string{"line\nPass", "word", ": "} {
						if err := r.Watch(s, []byte(part), &stdin); err != nil {
							errs <- err
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := strings.Count(stdin.String(), "pw\n"); got != 2*prompts {
			t.Errorf("%d answers, want %d", got, 2*prompts)
		}
	})
}

// noMatchOutput returns size bytes of build-log-like output that begins
// with lead and in which the patterns of TestResponderScanIsLinear do not
// match.
func noMatchOutput(lead string, size int) []byte {
	b := bytes.NewBufferString(lead)
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(b, "[%6d] compiling module_%d.go (ok) -> bin/out_%d.o; größe=%d\n", i, i%97, i%13, i*7)
	}
	return b.Bytes()[:size]
}

func TestResponderScanIsLinear(t *testing.T) {
	const window = 4096
	tests := []struct {
		name    string
		pattern string
		lead    string // output before the build log
		size    int
		chunk   int
		// extra is the most bytes of earlier output that may be scanned
		// again with each chunk.
		extra int
	}{
		{"literal, 4 KiB chunks", `Password: `, "", 10 << 20, 4096, len("Password: ") - 1},
		{"literal, 1-byte chunks", `Password: `, "", 64 << 10, 1, len("Password: ") - 1},
		{"unbounded with literal prefix", `\[sudo\] password for \w+: `, "", 10 << 20, 4096, len("[sudo] password for ")},
		{"unbounded, case folded", `(?i)passw.*: `, "", 2 << 20, 4096, len("passw")},
		{"unbounded, case folded, 100-byte chunks", `(?i)passw.*: `, "", 1 << 20, 100, len("passw")},
		{"a partial match that never ends keeps the window", `(?s)passw.*: `, "passw", 1 << 20, 4096, window},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := noMatchOutput(tc.lead, tc.size)
			r := &Responder{Pattern: regexp.MustCompile(tc.pattern), Response: "x\n", Window: window}
			chunks := 0
			for len(out) > 0 {
				n := min(tc.chunk, len(out))
				if err := r.Watch(Stdout, out[:n], nil); err != nil {
					t.Fatal(err) // any answer would fail here: stdin is nil
				}
				out = out[n:]
				chunks++
				if kept := len(r.streams[Stdout].prompt.buf); kept > tc.extra+utf8.UTFMax {
					t.Fatalf("after chunk %d: %d bytes kept, want at most %d", chunks, kept, tc.extra+utf8.UTFMax)
				}
			}
			// Each chunk is scanned with the kept tail, and once more to
			// find what to keep.
			scanned := r.streams[Stdout].prompt.scanned
			limit := 2 * (int64(tc.size) + int64(chunks)*int64(tc.extra+utf8.UTFMax))
			if scanned < int64(tc.size)-utf8.UTFMax || scanned > limit {
				t.Errorf("%d bytes in %d chunks: regexps scanned %d bytes, want between %d and %d",
					tc.size, chunks, scanned, tc.size, limit)
			}
		})
	}
}

func TestFailingResponder(t *testing.T) {
	type step struct {
		stream Stream
		chunk  string
	}
	prompt := regexp.MustCompile(`Password: `)
	tests := []struct {
		name      string
		sentinel  string // "" means the prompt itself
		steps     []step
		wantErrAt int // index of the step that fails; -1 for none
		answers   int
	}{
		{"accepted answer", `Sorry`, []step{{Stderr, "Password: "}, {Stdout, "welcome\n"}, {Stdout, "done\n"}}, -1, 1},
		{"prompt again", "", []step{{Stderr, "Password: "}, {Stderr, "\nSorry, try again.\nPassword: "}}, 1, 1},
		{"sentinel before prompt again", `Sorry`, []step{{Stderr, "Password: "}, {Stderr, "\nSorry, try again.\nPassword: "}}, 1, 1},
		{"prompt twice in one chunk", "", []step{{Stderr, "Password: \nPassword: "}}, 0, 1},
		{"sentinel in the chunk that answered", `Sorry`, []step{{Stderr, "Password: \nSorry"}}, 0, 1},
		{"sentinel before the first answer is ignored", `Sorry`, []step{{Stderr, "Sorry\n"}, {Stderr, "Password: "}, {Stderr, "ok\n"}}, -1, 1},
		{"sentinel on the other stream", `Sorry`, []step{{Stderr, "Password: "}, {Stdout, "Sorry"}}, 1, 1},
		{"sentinel split across chunks", `Sorry, try again`, []step{{Stderr, "Password: "}, {Stderr, "Sorry, t"}, {Stderr, "ry again"}}, 2, 1},
		{"after failing, every call fails", "", []step{{Stderr, "Password: "}, {Stderr, "Password: "}, {Stderr, "Password: "}, {Stdout, "x"}}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errRefused := errors.New("refused")
			sentinel := prompt
			if tc.sentinel != "" {
				sentinel = regexp.MustCompile(tc.sentinel)
			}
			f := &FailingResponder{
				Responder: Responder{Pattern: prompt, Response: "pw\n"},
				Sentinel:  sentinel,
				Err:       errRefused,
			}
			var stdin bytes.Buffer
			failedAt := -1
			for i, s := range tc.steps {
				err := f.Watch(s.stream, []byte(s.chunk), &stdin)
				switch {
				case err != nil && !errors.Is(err, errRefused):
					t.Fatalf("step %d: unexpected error %v", i, err)
				case err == nil && failedAt >= 0:
					t.Fatalf("step %d: no error after failing at step %d", i, failedAt)
				case err != nil && failedAt < 0:
					failedAt = i
				}
			}
			if failedAt != tc.wantErrAt {
				t.Errorf("failed at step %d, want %d", failedAt, tc.wantErrAt)
			}
			if got := strings.Count(stdin.String(), "pw\n"); got != tc.answers {
				t.Errorf("%d answers, want %d", got, tc.answers)
			}
		})
	}
}

func TestFailingResponderSecondPromptSplitAnywhere(t *testing.T) {
	const again = "\nSorry, try again.\n[sudo] password: "
	for i := 0; i <= len(again); i++ {
		f := &FailingResponder{
			Responder: Responder{Pattern: regexp.MustCompile(`\[sudo\] password: `), Response: "pw\n"},
			Sentinel:  regexp.MustCompile(`\[sudo\] password: `),
		}
		var stdin bytes.Buffer
		if err := f.Watch(Stderr, []byte("[sudo] password: "), &stdin); err != nil {
			t.Fatal(err)
		}
		err1 := f.Watch(Stderr, []byte(again[:i]), &stdin)
		err2 := f.Watch(Stderr, []byte(again[i:]), &stdin)
		if i < len(again) && err1 != nil {
			t.Errorf("split at %d: failed before the prompt was complete: %v", i, err1)
		}
		if !errors.Is(err2, ErrNotAccepted) {
			t.Errorf("split at %d: error %v, want one wrapping ErrNotAccepted", i, err2)
		}
		if stdin.String() != "pw\n" {
			t.Errorf("split at %d: wrote %q, want one answer", i, stdin.String())
		}
	}
}

func TestResponderNeedsPatternAndStdin(t *testing.T) {
	tests := []struct {
		name  string
		w     Watcher
		stdin io.Writer
	}{
		{"no pattern", &Responder{Response: "x"}, io.Discard},
		{"no sentinel", &FailingResponder{Responder: Responder{Pattern: regexp.MustCompile("a")}}, io.Discard},
		{"no stdin", &Responder{Pattern: regexp.MustCompile("a"), Response: "x"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.w.Watch(Stdout, []byte("a"), tc.stdin); err == nil {
				t.Error("Watch succeeded, want an error")
			}
		})
	}
}

func TestMaxMatchLen(t *testing.T) {
	tests := []struct {
		pattern string
		want    int
	}{
		{`Password: `, 10},
		{`(?i)abc`, 3 * utf8.UTFMax},
		{`für`, 4},
		{`[a-z]{1,8}: `, 10},
		{`(yes|no)\? `, 5},
		{`a+`, unbounded},
		{`.*`, unbounded},
		{`x?`, 1},
		{`^$`, 0},
		{`\w+(?:)`, unbounded},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			tree, err := syntax.Parse(tc.pattern, syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			if got := maxMatchLen(tree.Simplify()); got != tc.want {
				t.Errorf("patternMaxLen(%q) = %d, want %d", tc.pattern, got, tc.want)
			}
		})
	}
}

func TestViablePrefix(t *testing.T) {
	tests := []struct {
		pattern string
		text    string
		want    string // the tail a match could still begin with
	}{
		{`Password: `, "abc Pass", "Pass"},
		{`Password: `, "abc Password", "Password"},
		{`Password: `, "abc Passx", ""},
		{`Password: `, "Password: ", "Password: "}, // feed drops it once matched
		{`(?i)password.*: `, "log PASSWORD for x", "PASSWORD for x"},
		{`(?i)password.*: `, "PASSWORD for x\nmore", ""},
		{`\[sudo\] password for \w+: `, "x [sudo] password for ro", "[sudo] password for ro"},
		{`(yes|no)\? `, "say n", "n"},
		{`(yes|no)\? `, "say ye", "ye"},
		{`a{2,3}b`, "xaaaa", "aaa"},
		{`a{2,3}b`, "xaaab", "aaab"},
		{`a{2,3}b`, "xaaa", "aaa"},
		{`^Password: `, "x Pass", "Pass"}, // assertions are ignored
		{`für`, "xfü", "fü"},
		{`\bfoo\b`, "a fo", "fo"},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"/"+tc.text, func(t *testing.T) {
			p := newPlan(regexp.MustCompile(tc.pattern), 1<<10)
			if p.viable == nil {
				t.Fatal("no viable-prefix regexp")
			}
			loc := p.viable.FindReaderIndex(&backward{b: []byte(tc.text)})
			if loc == nil {
				t.Fatalf("%s did not match %q", p.viable, tc.text)
			}
			if got := tc.text[len(tc.text)-loc[1]:]; got != tc.want {
				t.Errorf("viable tail of %q = %q, want %q (regexp %s)", tc.text, got, tc.want, p.viable)
			}
		})
	}
}
