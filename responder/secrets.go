package responder

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
)

// MinSecretLen is the shortest secret that Secrets takes. Add refuses
// shorter ones: masking every "abc" in the output would mangle it while
// hardly hiding anything, and leaving them unmasked would show them.
const MinSecretLen = 4

// maxNoise bounds the bytes of carriage returns and terminal control
// sequences that may break one occurrence of a secret (see Redact).
const maxNoise = 256

// maxSequence bounds one terminal control sequence.
const maxSequence = 64

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
	list  []string // longest first, no duplicates
	first [256]bool
}

// Add adds secret to the set. A secret shorter than MinSecretLen bytes,
// including the empty string, is not added: Add returns an error saying
// so, which the caller should report with where the secret came from.
func (s *Secrets) Add(secret string) error {
	if len(secret) < MinSecretLen {
		return fmt.Errorf("a secret of %d bytes is too short to be masked in output (secrets need %d bytes or more); use a longer one", len(secret), MinSecretLen)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := &secretSet{}
	if s.set != nil {
		if slices.Contains(s.set.list, secret) {
			return nil
		}
		*next = *s.set
	}
	next.list = append(slices.Clip(next.list), secret)
	// Longest first, so that where two secrets match at the same place
	// the longer one is masked.
	slices.SortStableFunc(next.list, func(a, b string) int { return len(b) - len(a) })
	next.first[secret[0]] = true
	s.set = next
	return nil
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
// An occurrence may be broken by carriage returns and terminal control
// sequences (colours, cursor moves, titles), as a progress bar that
// redraws it would break it: it shows whole on a terminal, so the whole
// stretch, control sequences included, is masked. Up to 256 bytes of
// them per occurrence are seen through. Where secrets overlap, the leftmost wins, and of those starting at the
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
		n, more := set.longestAt(rest)
		if more && !final {
			return dst, len(rest)
		}
		if n > 0 {
			dst = append(dst, mask...)
			i += n
			continue
		}
		dst = append(dst, b[i])
		i++
	}
	return dst, 0
}

// longestAt returns how many bytes of b the longest secret b begins with
// spans, or 0. more reports that some secret not found could still
// begin b: b ends before that secret (or a control sequence inside it)
// does.
func (set *secretSet) longestAt(b []byte) (n int, more bool) {
	for _, s := range set.list {
		k, partial := matchAt(b, s)
		if partial {
			more = true
		}
		if k > 0 && n == 0 {
			n = k // the list is longest first
		}
	}
	return n, more
}

// matchAt returns how many bytes of b spell secret from the start of b,
// seeing through carriage returns and terminal control sequences between
// its bytes, or 0 if b does not begin with it. partial reports that b
// ends while it still could.
func matchAt(b []byte, secret string) (n int, partial bool) {
	i, noise := 0, 0
	for j := 0; j < len(secret); {
		if i == len(b) {
			return 0, true
		}
		if b[i] == secret[j] {
			i++
			j++
			continue
		}
		if j == 0 {
			return 0, false
		}
		k := noiseLen(b[i:])
		if k < 0 {
			return 0, true
		}
		noise += k
		if k == 0 || noise > maxNoise {
			return 0, false
		}
		i += k
	}
	return i, false
}

// noiseLen returns the length of the carriage return or terminal control
// sequence that b begins with: 0 if it begins with neither, -1 if b ends
// inside one. Sequences are ESC followed by a CSI ("[" parameters, a
// final byte), an OSC or other string ("]", "P", "X", "^" or "_", up to
// BEL or ESC \), or intermediate bytes and a final byte (ESC ( B).
func noiseLen(b []byte) int {
	switch {
	case b[0] == '\r':
		return 1
	case b[0] != 0x1b:
		return 0
	case len(b) == 1:
		return -1
	}
	end := min(len(b), maxSequence)
	switch b[1] {
	case '[':
		for i := 2; i < end; i++ {
			switch c := b[i]; {
			case 0x40 <= c && c <= 0x7e:
				return i + 1
			case c < 0x20 || c > 0x3f:
				return 0
			}
		}
	case ']', 'P', 'X', '^', '_':
		for i := 2; i < end; i++ {
			switch {
			case b[i] == 0x07:
				return i + 1
			case b[i] == 0x1b && i+1 < len(b):
				if b[i+1] == '\\' {
					return i + 2
				}
				return 0
			}
		}
	default:
		for i := 1; i < end; i++ {
			switch c := b[i]; {
			case 0x30 <= c && c <= 0x7e:
				return i + 1
			case c < 0x20 || c > 0x2f:
				return 0
			}
		}
	}
	if len(b) < maxSequence {
		return -1 // it may yet end
	}
	return 0
}

// Writer returns a writer that writes to w what is written to it, with
// every secret in s masked, even a secret split across writes.
//
// The writer passes output on at once, except for a tail that could be
// the beginning of a secret: that tail (shorter than the longest secret,
// with the control sequences Redact sees through) waits for the next Write or for Close. So a prompt such as "Password: "
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

// Error returns err with every secret in its message masked, as an error
// that unwraps to err, so that errors.Is and errors.As still find what
// err holds. It returns err itself when its message shows no secret, and
// nil for nil.
func (s *Secrets) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	masked := string(s.Redact([]byte(msg)))
	if masked == msg {
		return err
	}
	return &maskedError{msg: masked, err: err}
}

// maskedError is an error whose message had secrets masked.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// Checked returns a source that gives the password that source gives,
// after adding it to s so that it is masked from then on. A password too
// short to be masked (see Add) is an error, as from the source.
func (s *Secrets) Checked(source PasswordFunc) PasswordFunc {
	return func(ctx context.Context) (string, error) {
		pw, err := source(ctx)
		if err != nil {
			return "", err
		}
		if err := s.Add(pw); err != nil {
			return "", fmt.Errorf("the sudo password: %w", err)
		}
		return pw, nil
	}
}
