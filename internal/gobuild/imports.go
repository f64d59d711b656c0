package gobuild

import (
	"errors"
	"io"
	"strconv"
	"strings"
)

// readImports returns the import paths declared by the Go source file read
// from r, in the order they appear. It reads no further than the token
// after the last import declaration, so that finding a package's imports
// costs about one read per file. Malformed input ends the scan quietly,
// with the paths found before it: go build reports such errors, and a
// package that does not compile yields no binary to reuse. Only errors
// reading r are returned.
func readImports(r io.ByteScanner) ([]string, error) {
	s := &importScanner{r: r}
	// A file may start with a byte order mark, which the scanner takes
	// for the start of an identifier.
	if strings.TrimPrefix(s.next(), "\ufeff") != "package" || !isIdent(s.next()) {
		return nil, s.err
	}
	var paths []string
	for {
		switch s.next() {
		case ";":
			continue
		case "import":
		default:
			return paths, s.err
		}
		tok := s.next()
		if tok != "(" {
			p, ok := s.spec(tok)
			if !ok {
				return paths, s.err
			}
			paths = append(paths, p)
			continue
		}
		for {
			tok = s.next()
			if tok == ";" {
				continue
			}
			if tok == ")" {
				break
			}
			p, ok := s.spec(tok)
			if !ok {
				return paths, s.err
			}
			paths = append(paths, p)
		}
	}
}

// importScanner splits the start of a Go source file into the few tokens
// that package clauses and import declarations are made of. Newlines count
// as white space: they end import specs only where a ';' could stand.
type importScanner struct {
	r   io.ByteScanner
	err error // the first error from r other than io.EOF
}

// spec reads the rest of an import spec that starts with tok and returns
// its path.
func (s *importScanner) spec(tok string) (path string, ok bool) {
	if tok == "." || isIdent(tok) {
		tok = s.next()
	}
	if tok == "" || (tok[0] != '"' && tok[0] != '`') {
		return "", false
	}
	path, err := strconv.Unquote(tok)
	return path, err == nil
}

// next returns the next token: an identifier or keyword, a string literal
// with its quotes, or one of the punctuation marks "(", ")", ";" and ".".
// It returns "" at the end of the input, on a read error and on anything
// else.
func (s *importScanner) next() string {
	c, ok := s.skipSpace()
	if !ok {
		return ""
	}
	switch {
	case isLetter(c):
		tok := []byte{c}
		for {
			c, ok := s.read()
			if !ok {
				return string(tok)
			}
			if !isLetter(c) && !('0' <= c && c <= '9') {
				s.unread()
				return string(tok)
			}
			tok = append(tok, c)
		}
	case c == '"' || c == '`':
		quote := c
		tok := []byte{c}
		for {
			c, ok := s.read()
			if !ok || (c == '\n' && quote == '"') {
				return ""
			}
			tok = append(tok, c)
			switch {
			case c == quote:
				return string(tok)
			case c == '\\' && quote == '"':
				c, ok := s.read()
				if !ok {
					return ""
				}
				tok = append(tok, c)
			}
		}
	case c == '(', c == ')', c == ';', c == '.':
		return string(c)
	}
	return ""
}

// skipSpace skips white space and comments and returns the byte after
// them.
func (s *importScanner) skipSpace() (byte, bool) {
	for {
		c, ok := s.read()
		if !ok {
			return 0, false
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '/':
		default:
			return c, true
		}
		c, ok = s.read()
		switch {
		case !ok:
			return '/', true
		case c == '/':
			for ok && c != '\n' {
				c, ok = s.read()
			}
		case c == '*':
			var prev byte
			for {
				c, ok = s.read()
				if !ok {
					return 0, false
				}
				if prev == '*' && c == '/' {
					break
				}
				prev = c
			}
		default:
			s.unread()
			return '/', true
		}
	}
}

func (s *importScanner) read() (byte, bool) {
	c, err := s.r.ReadByte()
	if err != nil {
		if !errors.Is(err, io.EOF) && s.err == nil {
			s.err = err
		}
		return 0, false
	}
	return c, true
}

func (s *importScanner) unread() { _ = s.r.UnreadByte() }

// isLetter reports whether c can start an identifier. Every byte of a
// multi-byte UTF-8 sequence counts as a letter: the scan need not reject
// what the compiler will.
func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdent(tok string) bool { return tok != "" && isLetter(tok[0]) }
