package output

import (
	"fmt"
	"unicode/utf8"
)

// reset ends every SGR attribute: written at the end of a line whose
// text set colours, so that none leaks into the next line's prefix.
const reset = "\x1b[0m"

// Clean appends to dst one line of a command's output (without its line
// ending) as it may be shown after a host's prefix, and returns the
// extended slice. What a terminal would otherwise interpret becomes
// harmless:
//
//   - a carriage return starts the line again: the text after the last
//     one is kept (the last redraw of a progress line wins), so text can
//     never return over the prefix;
//   - SGR sequences (colours, ESC [ ... m) are kept when keepColor is
//     set, followed by a reset at the end of the line, and removed
//     otherwise;
//   - every other escape sequence (cursor movement, erasing, scrolling,
//     OSC window titles and hyperlinks, DCS, character sets, terminal
//     reset) is removed whole;
//   - other control characters are shown visibly, as cat -v shows them:
//     ^H for a backspace, ^[ for an ESC that starts no sequence, ^? for
//     DEL, M-^[ for the C1 control U+009B (8-bit CSI) or a raw 0x9b byte;
//     tabs stay;
//   - Unicode bidirectional overrides and isolates, which could reorder
//     the line on a terminal that applies bidi, are shown as <U+202E>.
//
// Everything else, including invalid UTF-8 outside the C1 range, is
// kept byte for byte.
func Clean(dst, line []byte, keepColor bool) []byte {
	for i := len(line) - 1; i >= 0; i-- {
		if line[i] == '\r' {
			line = line[i+1:]
			break
		}
	}
	colored := false
	for i := 0; i < len(line); {
		b := line[i]
		switch {
		case b == 0x1b:
			n, sgr := escape(line[i:])
			switch {
			case n == 0:
				dst = append(dst, '^', '[')
				n = 1
			case sgr && keepColor:
				dst = append(dst, line[i:i+n]...)
				colored = true
			}
			i += n
		case b == '\t' || (b >= 0x20 && b < 0x7f):
			dst = append(dst, b)
			i++
		case b < 0x20:
			dst = append(dst, '^', b+0x40)
			i++
		case b == 0x7f:
			dst = append(dst, '^', '?')
			i++
		default:
			r, size := utf8.DecodeRune(line[i:])
			switch {
			case r == utf8.RuneError && size == 1 && b < 0xa0:
				dst = append(dst, 'M', '-', '^', b-0x80+0x40)
			case r >= 0x80 && r < 0xa0:
				dst = append(dst, 'M', '-', '^', byte(r)-0x80+0x40)
			case bidiControl(r):
				dst = fmt.Appendf(dst, "<U+%04X>", r)
			default:
				dst = append(dst, line[i:i+size]...)
			}
			i += size
		}
	}
	if colored {
		dst = append(dst, reset...)
	}
	return dst
}

// escape measures the escape sequence at the start of s (s[0] is ESC):
// its length, and whether it is an SGR sequence made of digits, ';' and
// ':' only. A zero length means ESC starts no sequence. A control
// string (OSC, DCS, SOS, PM, APC) that is not terminated on this line
// runs to its end.
func escape(s []byte) (n int, sgr bool) {
	if len(s) < 2 {
		return 0, false
	}
	switch c := s[1]; {
	case c == '[': // CSI: parameters, intermediates, a final byte
		i := 2
		plain := true
		for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3f {
			if (s[i] < '0' || s[i] > '9') && s[i] != ';' && s[i] != ':' {
				plain = false
			}
			i++
		}
		inter := i
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
			return i + 1, s[i] == 'm' && plain && inter == i
		}
		return i, false // broken off: drop what was read
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_': // control strings
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1, false
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2, false
			}
		}
		return len(s), false
	case c >= 0x20 && c <= 0x2f: // nF: intermediates, then a final byte
		i := 2
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			return i + 1, false
		}
		return i, false
	case c >= 0x30 && c <= 0x7e: // ESC 7, ESC 8, ESC c, ESC M, ...
		return 2, false
	}
	return 0, false
}

// bidiControl reports whether r is a Unicode bidirectional embedding,
// override or isolate.
func bidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
