package responder

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzPatterns are prompt-like patterns: each match ends in text that
// the pattern cannot extend, so answering as soon as a match is seen
// gives the same matches as searching the whole output at once.
var fuzzPatterns = []string{
	`[Pp]assword: `,
	`\[sudo\] password for [a-z]{1,8}: `,
	`Continue\? \[[yY]/[nN]\] `,
	`(?:yes|no)\? `,
	`(?i)password: `,
	`Passwort für [^:\n]{1,12}: `,
}

// FuzzResponder checks the matcher against a whole-buffer search: any
// chunking of any output gives as many answers as there are
// non-overlapping matches in the whole output, on each stream.
//
// kind picks a pattern: one of fuzzPatterns, or else literal as a literal
// prompt. Its high bits widen the window beyond the longest match. Each
// byte of cuts is the size of a chunk (mod 33, so some are empty).
func FuzzResponder(f *testing.F) {
	f.Add(uint8(0), "", []byte("Password: "), []byte{3})
	f.Add(uint8(1), "", []byte("x\n[sudo] password for root: [sudo] password for "), []byte{1, 2, 3, 4, 5})
	f.Add(uint8(3), "", []byte("yes? no? yeno? "), []byte{1})
	f.Add(uint8(4), "", []byte("PASSWORD: passWORD: "), []byte{0, 7})
	f.Add(uint8(5), "", []byte("Passwort für Jörg: Passwort für \xc3: "), []byte{13, 1, 1, 1})
	f.Add(uint8(0xf7), "aab", []byte("aaab aab aaaab"), []byte{2})
	f.Add(uint8(7), "für", []byte("fürfürfü\xc3\xbcr"), []byte{2, 1})
	f.Add(uint8(0x27), "nonce=ab12: ", []byte("[sudo] nonce=ab12: nonce=ab1nonce=ab12: "), []byte{5, 9})
	f.Fuzz(func(t *testing.T, kind uint8, literal string, data, cuts []byte) {
		var pattern string
		if i := int(kind & 7); i < len(fuzzPatterns) {
			pattern = fuzzPatterns[i]
		} else {
			// A literal prompt. U+FFFD also matches invalid bytes, and a
			// trailing unfinished character is never scanned, so it is
			// left out.
			if literal == "" || len(literal) > 64 || !utf8.ValidString(literal) ||
				strings.ContainsRune(literal, utf8.RuneError) {
				t.Skip()
			}
			pattern = regexp.QuoteMeta(literal)
		}
		re := regexp.MustCompile(pattern)
		want := 0
		for _, loc := range re.FindAllIndex(data, -1) {
			if loc[0] < loc[1] {
				want++
			}
		}

		tree, err := syntax.Parse(pattern, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		r := &Responder{
			Pattern:  re,
			Response: "!",
			Window:   maxMatchLen(tree.Simplify()) + int(kind>>4),
		}
		var stdin bytes.Buffer
		for i, rest := 0, data; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = int(cuts[i%len(cuts)]) % 33
				if i >= len(cuts) && n == 0 {
					n = 1 // the second time round, no empty chunks
				}
				n = min(n, len(rest))
			}
			for _, s := range []Stream{Stdout, Stderr} {
				if err := r.Watch(s, rest[:n], &stdin); err != nil {
					t.Fatal(err)
				}
			}
			rest = rest[n:]
		}
		if got := stdin.Len(); got != 2*want {
			t.Errorf("pattern %q, output %q in chunks %v: %d answers on two streams, want %d",
				pattern, data, cuts, got, 2*want)
		}
	})
}

// FuzzRedactWriter checks the streaming mask against Redact on the whole
// output: however the output is cut into writes, the Writer passes on
// exactly what Redact returns, and no secret that Redact masked shows.
// Each byte of cuts is the size of a write (mod 17, some empty).
func FuzzRedactWriter(f *testing.F) {
	f.Add("S3cr3t", "other", []byte("a S3c\rr3t b S3c\x1b[0mr3t S3cr3t"), []byte{1, 2, 3})
	f.Add("hunter2", "hunt", []byte("hunt hunter2 hun\x1b]0;t\x07ter2 hunte\x1b[1"), []byte{5, 0, 7})
	f.Add("abcd", "abcdef", []byte("abcde abcdef ab\rcd\x1b"), []byte{1})
	f.Fuzz(func(t *testing.T, s1, s2 string, data, cuts []byte) {
		var s Secrets
		for _, x := range []string{s1, s2} {
			if len(x) > 64 {
				t.Skip()
			}
			_ = s.Add(x) // too short ones are refused
		}
		want := s.Redact(data)
		var out bytes.Buffer
		w := s.Writer(&out)
		for i, rest := 0, data; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(int(cuts[i%len(cuts)])%17, len(rest))
				if i >= len(cuts) && n == 0 {
					n = 1
				}
			}
			if _, err := w.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("secrets %q %q, output %q in writes %v: Writer gave %q, Redact %q", s1, s2, data, cuts, out.Bytes(), want)
		}
	})
}
