package responder

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func secretsOf(list ...string) *Secrets {
	var s Secrets
	for _, x := range list {
		s.Add(x)
	}
	return &s
}

func TestSecretsRedact(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"no secrets", nil, "pw is hunter2", "pw is hunter2"},
		{"one", []string{"hunter2"}, "pw is hunter2!", "pw is ****!"},
		{"each occurrence", []string{"hunter2"}, "hunter2 hunter2hunter2", "**** ********"},
		{"several", []string{"hunter2", "s3cr3t"}, "a=hunter2 b=s3cr3t", "a=**** b=****"},
		{"longest at the same place", []string{"abcd", "abcdef"}, "xabcdefy abcdx", "x****y ****x"},
		{"leftmost of overlapping", []string{"abcd", "cdef"}, "abcdef", "****ef"},
		{"too short to mask", []string{"abc", ""}, "abc cabc", "abc cabc"},
		{"shortest masked", []string{"abcd"}, "abcd", "****"},
		{"added twice", []string{"abcd", "abcd"}, "abcd", "****"},
		{"multi-byte", []string{"pässwörd"}, "pw: pässwörd\n", "pw: ****\n"},
		{"partial is not masked", []string{"hunter2"}, "hunter hunter3", "hunter hunter3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(secretsOf(tc.secrets...).Redact([]byte(tc.in))); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	t.Run("nil set", func(t *testing.T) {
		var s *Secrets
		if got := string(s.Redact([]byte("hunter2"))); got != "hunter2" {
			t.Errorf("nil Secrets redacted to %q", got)
		}
	})
}

// recorder is an underlying writer that keeps what each Write delivered.
type recorder struct {
	bytes.Buffer
	writes int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.writes++
	return r.Buffer.Write(p)
}

func TestRedactWriterMasksSecretSplitAnywhere(t *testing.T) {
	s := secretsOf("hunter2", "correct horse", "horses")
	texts := []string{
		"login: hunter2\nok\n",
		"correct horses and hunter2hunter2",
		"hunte hunter2 correct hors",
		"no secret here, hunter, correct",
	}
	for _, text := range texts {
		t.Run(text, func(t *testing.T) {
			want := string(s.Redact([]byte(text)))
			if strings.Contains(want, "hunter2") || strings.Contains(want, "correct horse") {
				t.Fatalf("Redact left a secret: %q", want)
			}
			for i := 0; i <= len(text); i++ {
				for j := i; j <= len(text); j++ {
					var out recorder
					w := s.Writer(&out)
					for _, part := range []string{text[:i], text[i:j], text[j:]} {
						if n, err := w.Write([]byte(part)); err != nil || n != len(part) {
							t.Fatalf("Write(%q) = %d, %v", part, n, err)
						}
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					if out.String() != want {
						t.Fatalf("writes %q|%q|%q gave %q, want %q", text[:i], text[i:j], text[j:], out.String(), want)
					}
				}
			}
		})
	}
}

func TestRedactWriterHoldsBackOnlyAPossibleSecret(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		writes  []string
		// passed is what the underlying writer has after each write,
		// and last after Close.
		passed []string
		last   string
	}{
		{"prompt passes at once", []string{"hunter2"}, []string{"Password: "}, []string{"Password: "}, "Password: "},
		{"no secrets passes everything", nil, []string{"hunt"}, []string{"hunt"}, "hunt"},
		{"a possible secret waits", []string{"hunter2"}, []string{"pw=hun", "ter2\n"}, []string{"pw=", "pw=****\n"}, "pw=****\n"},
		{"released when it is not one", []string{"hunter2"}, []string{"pw=hun", "gry\n"}, []string{"pw=", "pw=hungry\n"}, "pw=hungry\n"},
		{"close releases the tail", []string{"hunter2"}, []string{"bye hunte"}, []string{"bye "}, "bye hunte"},
		{"close masks a secret in the tail", []string{"abcd", "abcdef"}, []string{"x abcd"}, []string{"x "}, "x ****"},
		{"a short secret waits for a longer one", []string{"abcd", "abcdef"}, []string{"abcd", "x"}, []string{"", "****x"}, "****x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out recorder
			w := secretsOf(tc.secrets...).Writer(&out)
			for i, p := range tc.writes {
				if _, err := w.Write([]byte(p)); err != nil {
					t.Fatal(err)
				}
				if out.String() != tc.passed[i] {
					t.Errorf("after writing %q: passed %q, want %q", tc.writes[:i+1], out.String(), tc.passed[i])
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.last {
				t.Errorf("after Close: %q, want %q", out.String(), tc.last)
			}
		})
	}
}

func TestRedactWriterSecretAddedWhileStreaming(t *testing.T) {
	var s Secrets
	var out recorder
	w := s.Writer(&out)
	const lines = 500
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range lines {
			s.Add(fmt.Sprintf("other-secret-%d", i))
		}
	})
	fmt.Fprintf(w, "before: hunter2\n")
	s.Add("hunter2")
	for range lines {
		fmt.Fprintf(w, "line hunter2 line\n")
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, "before: hunter2\n") {
		t.Errorf("output written before Add changed: %q", got[:min(len(got), 40)])
	}
	if n := strings.Count(got, "line **** line\n"); n != lines {
		t.Errorf("%d lines masked, want %d", n, lines)
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestRedactWriterReportsWriteErrors(t *testing.T) {
	w := secretsOf("hunter2").Writer(failingWriter{})
	if _, err := w.Write([]byte("a line\n")); !errors.Is(err, errWrite) {
		t.Errorf("Write error = %v, want %v", err, errWrite)
	}
	if _, err := w.Write([]byte("hunt")); err != nil {
		t.Errorf("Write of a held tail failed: %v", err)
	}
	if err := w.Close(); !errors.Is(err, errWrite) {
		t.Errorf("Close error = %v, want %v", err, errWrite)
	}
}

func TestSecretsRedactAcrossControlSequences(t *testing.T) {
	// A progress bar redraws with \r and colours its text: a secret
	// broken by either still shows whole on the terminal, so it is masked.
	s := secretsOf("S3cr3t")
	tests := []struct{ in, want string }{
		{"S3c\rr3t", "****"},
		{"pw: S3c\x1b[0mr3t\n", "pw: ****\n"},
		{"S3\x1b[1;31mcr\x1b[0m3t", "****"},
		{"S\x1b]0;title\x07\x1b]0;x\x1b\\3cr3t", "****"},
		{"S3cr\r\r\x1b(B3t", "****"},
		{"\x1b[1mS3cr3t\x1b[0m", "\x1b[1m****\x1b[0m"},
		{"S3c\rx3t S3c\nr3t", "S3c\rx3t S3c\nr3t"},
	}
	for _, tc := range tests {
		if got := string(s.Redact([]byte(tc.in))); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// And split anywhere, through a Writer.
		for i := 0; i <= len(tc.in); i++ {
			var out recorder
			w := s.Writer(&out)
			w.Write([]byte(tc.in[:i]))
			w.Write([]byte(tc.in[i:]))
			w.Close()
			if out.String() != tc.want {
				t.Errorf("writes %q|%q gave %q, want %q", tc.in[:i], tc.in[i:], out.String(), tc.want)
			}
		}
	}
}

func TestSecretsAddRefusesShortSecrets(t *testing.T) {
	var s Secrets
	for _, short := range []string{"", "a", "abc"} {
		err := s.Add(short)
		if err == nil || !strings.Contains(err.Error(), "4 bytes") {
			t.Errorf("Add(%q) = %v, want an error saying secrets need 4 bytes", short, err)
		}
	}
	if err := s.Add("abcd"); err != nil {
		t.Errorf("Add(abcd) = %v", err)
	}
	if got := string(s.Redact([]byte("abc abcd"))); got != "abc ****" {
		t.Errorf("Redact = %q", got)
	}
}
