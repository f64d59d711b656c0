package responder

import (
	"io"
	"slices"
	"sync"
)

// MinSecretLen is the shortest secret that Secrets masks. Shorter ones
// are ignored: masking every "ab" in the output would mangle it while
// hardly hiding anything.
const MinSecretLen = 3

// mask replaces each secret in redacted output.
var mask = []byte("****")

// Secrets is a set of strings, such as passwords, that must never be
// shown. It is safe for concurrent use, and secrets may be added while
// output is being redacted. The zero value is an empty set; so is a nil
// *Secrets, for Redact and Writer.
type Secrets struct {
	mu  sync.Mutex
	set *secretSet // replaced, never changed, by Add
}

// secretSet is an immutable snapshot of a Secrets.
type secretSet struct {
	list   []string // longest first, no duplicates
	first  [256]bool
	maxLen int
}

// Add adds secret to the set. Secrets shorter than MinSecretLen bytes,
// including the empty string, are ignored.
func (s *Secrets) Add(secret string) {
	if len(secret) < MinSecretLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := &secretSet{}
	if s.set != nil {
		if slices.Contains(s.set.list, secret) {
			return
		}
		*next = *s.set
	}
	next.list = append(slices.Clip(next.list), secret)
	// Longest first, so that where two secrets match at the same place
	// the longer one is masked.
	slices.SortStableFunc(next.list, func(a, b string) int { return len(b) - len(a) })
	next.first[secret[0]] = true
	next.maxLen = max(next.maxLen, len(secret))
	s.set = next
}

// snapshot returns the current set, or nil if it is empty.
func (s *Secrets) snapshot() *secretSet {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set
}

// Redact returns b with every occurrence of a secret replaced by "****".
// Where secrets overlap, the leftmost wins, and of those starting at the
// same byte the longest. When the set is empty Redact returns b itself;
// otherwise it returns a new slice.
func (s *Secrets) Redact(b []byte) []byte {
	set := s.snapshot()
	if set == nil {
		return b
	}
	out, _ := set.redact(make([]byte, 0, len(b)), b, true)
	return out
}

// redact appends b to dst with the secrets masked. Unless final, it stops
// where the rest of b could be the beginning of a secret that more output
// would complete, and returns how many bytes it held back.
func (set *secretSet) redact(dst, b []byte, final bool) (out []byte, held int) {
	for i := 0; i < len(b); {
		if !set.first[b[i]] {
			j := i + 1
			for j < len(b) && !set.first[b[j]] {
				j++
			}
			dst = append(dst, b[i:j]...)
			i = j
			continue
		}
		rest := b[i:]
		if !final && set.couldGrow(rest) {
			return dst, len(rest)
		}
		if n := set.longestAt(rest); n > 0 {
			dst = append(dst, mask...)
			i += n
			continue
		}
		dst = append(dst, b[i])
		i++
	}
	return dst, 0
}

// couldGrow reports whether some secret is longer than rest and begins
// with it.
func (set *secretSet) couldGrow(rest []byte) bool {
	if len(rest) >= set.maxLen {
		return false
	}
	for _, s := range set.list {
		if len(s) > len(rest) && s[:len(rest)] == string(rest) {
			return true
		}
	}
	return false
}

// longestAt returns the length of the longest secret b begins with, or 0.
func (set *secretSet) longestAt(b []byte) int {
	for _, s := range set.list {
		if len(s) <= len(b) && string(b[:len(s)]) == s {
			return len(s)
		}
	}
	return 0
}

// Writer returns a writer that writes to w what is written to it, with
// every secret in s masked, even a secret split across writes.
//
// The writer passes output on at once, except for a tail that could be
// the beginning of a secret: that tail (shorter than the longest secret)
// waits for the next Write or for Close. So a prompt such as "Password: "
// reaches w as soon as it is written.
func (s *Secrets) Writer(w io.Writer) *RedactWriter {
	return &RedactWriter{secrets: s, w: w}
}

// A RedactWriter masks secrets in a stream; see Secrets.Writer. It is
// safe for concurrent use.
type RedactWriter struct {
	secrets *Secrets
	w       io.Writer

	mu   sync.Mutex
	held []byte // a tail that may begin a secret
	in   []byte // scratch: held + the new bytes
	out  []byte // scratch: what goes to w
}

// Write writes p, with secrets masked, to the underlying writer, possibly
// holding back a tail that may begin a secret. It returns len(p) on
// success; if the underlying writer fails, it returns 0 and the error.
func (rw *RedactWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	set := rw.secrets.snapshot()
	in := p
	if len(rw.held) > 0 {
		rw.in = append(append(rw.in[:0], rw.held...), p...)
		in = rw.in
	}
	rw.held = rw.held[:0]
	if set == nil {
		if _, err := rw.w.Write(in); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	out, held := set.redact(rw.out[:0], in, false)
	rw.out = out
	rw.held = append(rw.held, in[len(in)-held:]...)
	if len(out) > 0 {
		if _, err := rw.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close writes the held-back tail, masked where it is a secret, to the
// underlying writer. It does not close that writer. The RedactWriter
// remains usable; a later Write starts afresh.
func (rw *RedactWriter) Close() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.held) == 0 {
		return nil
	}
	out := rw.held
	if set := rw.secrets.snapshot(); set != nil {
		out, _ = set.redact(rw.out[:0], rw.held, true)
		rw.out = out
	}
	_, err := rw.w.Write(out)
	rw.held = rw.held[:0]
	return err
}
