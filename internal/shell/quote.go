// Package shell quotes values for POSIX shells, so that a value substituted
// into a command line is always one word and never code.
package shell

import "strings"

// Quote returns s as a single POSIX shell word. Words made only of
// characters that no shell treats specially are returned as they are;
// anything else is wrapped in single quotes, each embedded single quote
// being closed, escaped and reopened. The empty string becomes a pair of
// single quotes.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isPlain(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each word and joins them with spaces.
func Join(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_./:,+@%=", c) >= 0:
			// '=' is plain except at the start of a word in zsh; we only
			// target POSIX sh, where it is harmless after the first byte.
			if c == '=' && i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
