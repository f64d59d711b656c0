package gobuild

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

var readImportsTests = []struct {
	name string
	src  string
	want []string
}{
	{"no imports", "package main\n\nfunc main() {}\n", nil},
	{"one import", "package main\n\nimport \"fmt\"\n", []string{"fmt"}},
	{"a group", "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {}\n", []string{"fmt", "os"}},
	{"several declarations", "package p\nimport \"a\"\nimport (\"b\"; \"c\")\nimport \"d\"\nvar x = 1\n", []string{"a", "b", "c", "d"}},
	{"named, dot and blank", "package p\nimport (\n\tf \"fmt\"\n\t. \"strings\"\n\t_ \"embed\"\n)\n", []string{"fmt", "strings", "embed"}},
	{"comments everywhere", "// Package p.\n//go:build linux\n\n/* x */ package /* y */ p // z\n\nimport ( // a\n\t\"a\" /* b */\n\t// \"not\"\n\t/* \"not\" */ \"b\"\n)\n", []string{"a", "b"}},
	{"raw string and escapes", "package p\nimport (\n\t`raw/path`\n\t\"esc\\u0061ped\"\n)\n", []string{"raw/path", "escaped"}},
	{"cgo", "package p\n\n// #include <stdio.h>\nimport \"C\"\nimport \"unsafe\"\n", []string{"C", "unsafe"}},
	{"semicolons on one line", "package p; import \"a\"; import \"b\"; func f() {}", []string{"a", "b"}},
	{"byte order mark", "\ufeffpackage p\nimport \"a\"\n", []string{"a"}},
	{"CRLF line ends", "package p\r\n\r\nimport (\r\n\t\"a\"\r\n)\r\n", []string{"a"}},
	{"stops at the first declaration", "package p\nfunc f() {}\nimport \"late\"\n", nil},
	{"a string after the imports is not one", "package p\nimport \"a\"\nvar s = \"b\"\n", []string{"a"}},
	{"no package clause", "import \"a\"\n", nil},
	{"empty", "", nil},
	{"unterminated group keeps what it read", "package p\nimport (\n\t\"a\"\n\t\"b", []string{"a"}},
	{"newline in a string", "package p\nimport \"a\nb\"\n", nil},
	{"unterminated comment", "package p\n/* import \"a\"", nil},
	{"garbage after import", "package p\nimport + \"a\"\n", nil},
}

func TestReadImports(t *testing.T) {
	for _, tt := range readImportsTests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time, so that no test depends on a buffer
			// holding the whole header.
			got, err := readImports(newByteScanner(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("readImports(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestReadImportsReportsReadErrors(t *testing.T) {
	// The second read fails, before the scan reaches the import.
	r := iotest.TimeoutReader(strings.NewReader("package p\n\nimport \"a\"\n"))
	if _, err := readImports(bufio.NewReaderSize(r, 16)); err == nil {
		t.Error("readImports hid a read error")
	}
}

// FuzzReadImports checks readImports against go/parser: whenever the
// parser reads a file's imports without error, readImports must find the
// same ones.
func FuzzReadImports(f *testing.F) {
	for _, tt := range readImportsTests {
		f.Add(tt.src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, err := readImports(bytes.NewReader([]byte(src)))
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(token.NewFileSet(), "x.go", src, parser.ImportsOnly)
		if err != nil {
			return
		}
		var want []string
		for _, spec := range file.Imports {
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return
			}
			want = append(want, p)
		}
		if !slices.Equal(got, want) {
			t.Errorf("readImports(%q) = %q, go/parser says %q", src, got, want)
		}
	})
}

// newByteScanner returns a reader of s whose every read from s returns
// one byte.
func newByteScanner(s string) *bufio.Reader {
	return bufio.NewReader(iotest.OneByteReader(strings.NewReader(s)))
}
