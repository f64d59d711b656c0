package output

import (
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in         string
		color, wantNoCol string // with and without keepColor
	}{
		{"plain text stays", "deploy done\tok é", "deploy done\tok é", "deploy done\tok é"},
		{"carriage return: the last redraw wins", "web1 says\r[web2] deploy OK", "[web2] deploy OK", "[web2] deploy OK"},
		{"progress line", "10%\r50%\r100%", "100%", "100%"},
		{"backspaces are shown", "\b\b\b\b\b\b\b[web2] ok", "^H^H^H^H^H^H^H[web2] ok", "^H^H^H^H^H^H^H[web2] ok"},
		{"cursor up and erase are removed", "a\x1b[2A\x1b[2K[web2] ok\x1b[1;1H", "a[web2] ok", "a[web2] ok"},
		{"OSC title, BEL-terminated", "x\x1b]0;pwned\x07y", "xy", "xy"},
		{"OSC hyperlink, ST-terminated", "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link", "link"},
		{"unterminated OSC runs to the line's end", "x\x1b]2;title", "x", "x"},
		{"DCS and APC", "\x1bPq#0\x1b\\a\x1b_app\x1b\\b", "ab", "ab"},
		{"save, restore, reset, index", "\x1b7a\x1b8\x1bc\x1bMb\x1bD", "ab", "ab"},
		{"charset designation", "\x1b(0lq\x1b(B", "lq", "lq"},
		{"SGR kept with colour, then reset", "\x1b[31mred\x1b[0m \x1b[1;38;5;208mx", "\x1b[31mred\x1b[0m \x1b[1;38;5;208mx\x1b[0m", "red x"},
		{"private CSI m is not SGR", "\x1b[>4;2m\x1b[?25lx", "x", "x"},
		{"lone ESC at the end", "x\x1b", "x^[", "x^["},
		{"ESC before a control", "\x1b\x07x", "^[^Gx", "^[^Gx"},
		{"broken CSI is dropped up to the next byte", "\x1b[12\x1b[31mx", "\x1b[31mx\x1b[0m", "x"},
		{"other C0 and DEL", "\x00\x07\x0b\x0c\x0e\x7f", "^@^G^K^L^N^?", "^@^G^K^L^N^?"},
		{"C1 CSI as UTF-8", "a\u009b2Ab", "aM-^[2Ab", "aM-^[2Ab"},
		{"C1 CSI as a raw byte", "a\x9b2Ab", "aM-^[2Ab", "aM-^[2Ab"},
		{"invalid UTF-8 above C1 stays", "caf\xe9", "caf\xe9", "caf\xe9"},
		{"bidi override shown", "a\u202eb\u2066c", "a<U+202E>b<U+2066>c", "a<U+202E>b<U+2066>c"},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Clean(nil, []byte(tt.in), true)); got != tt.color {
				t.Errorf("Clean(%q, colour) = %q, want %q", tt.in, got, tt.color)
			}
			if got := string(Clean(nil, []byte(tt.in), false)); got != tt.wantNoCol {
				t.Errorf("Clean(%q, no colour) = %q, want %q", tt.in, got, tt.wantNoCol)
			}
		})
	}
}

// FuzzClean: whatever a host prints, the cleaned line holds no control
// byte but tab and the ESC of a complete SGR sequence, and colour is
// reset at its end.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"a\rb", "\x1b[31mx", "\x1b]0;t\x07", "\x1b[2A", "\b", "\u009b1m", "\x1b[", "\x1b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, keep := range []bool{false, true} {
			out := Clean(nil, in, keep)
			sgr := false
			for i := 0; i < len(out); i++ {
				b := out[i]
				switch {
				case b == 0x1b:
					n, isSGR := escape(out[i:])
					if !keep || n == 0 || !isSGR {
						t.Fatalf("Clean(%q, %v) = %q: an ESC that is not SGR at %d", in, keep, out, i)
					}
					sgr = true
					i += n - 1
				case b < 0x20 && b != '\t', b == 0x7f:
					t.Fatalf("Clean(%q, %v) = %q: control byte %#x at %d", in, keep, out, b, i)
				case b >= 0x80:
					r, size := utf8.DecodeRune(out[i:])
					if (r == utf8.RuneError && size == 1 && b < 0xa0) || (r >= 0x80 && r < 0xa0) {
						t.Fatalf("Clean(%q, %v) = %q: C1 control at %d", in, keep, out, i)
					}
					i += size - 1
				}
			}
			if sgr && string(out[len(out)-len(reset):]) != reset {
				t.Fatalf("Clean(%q) = %q: colour not reset at the end", in, out)
			}
		}
	})
}
