package task

import (
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{
		"name":  "Ada",
		"space": "Ada Lovelace",
		"evil":  "$(touch pwned); `id` 'quoted'",
		"empty": "",
		"a.b":   "dotted",
	}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }

	tests := []struct {
		name    string
		in      string
		quote   bool
		want    string
		wantErr string // a substring of the error; "" means no error
	}{
		{name: "no braces", in: "echo hello", quote: true, want: "echo hello"},
		{name: "plain value", in: "echo {{.name}}", quote: true, want: "echo Ada"},
		{name: "spaces inside the braces", in: "echo {{ .name }}", quote: true, want: "echo Ada"},
		{name: "value with a space is one word", in: "echo {{.space}}", quote: true, want: "echo 'Ada Lovelace'"},
		{name: "code is quoted", in: "echo {{.evil}}", quote: true, want: `echo '$(touch pwned); ` + "`id`" + ` '\''quoted'\'''`},
		{name: "empty value is an empty word", in: "echo {{.empty}} x", quote: true, want: "echo '' x"},
		{name: "unquoted for paths", in: "/srv/{{.space}}/bin", quote: false, want: "/srv/Ada Lovelace/bin"},
		{name: "several names", in: "{{.name}}-{{.name}}:{{.a.b}}", quote: true, want: "Ada-Ada:dotted"},
		{name: "literal braces", in: `echo {{"{{"}}.name}}`, quote: true, want: "echo {{.name}}"},
		{name: "literal closing braces", in: `echo {{"}}"}}`, quote: true, want: "echo }}"},
		{name: "literal with escapes", in: `{{ "a\tb" }}`, quote: true, want: "a\tb"},
		{name: "literal is not quoted or expanded", in: `{{"$(id)"}}`, quote: true, want: "$(id)"},
		{name: "lone closing braces are text", in: "awk '{print}}'", quote: true, want: "awk '{print}}'"},
		{name: "single brace is text", in: "echo {x}", quote: true, want: "echo {x}"},

		{name: "unknown name", in: "echo {{.nope}}", quote: true, wantErr: "unknown name {{.nope}}"},
		{name: "unclosed", in: "echo {{.name", quote: true, wantErr: `unclosed {{ in "{{.name"`},
		{name: "unclosed after a good one", in: "{{.name}} {{", quote: true, wantErr: "unclosed {{"},
		{name: "no dot", in: "{{name}}", quote: true, wantErr: "unsupported {{name}}"},
		{name: "dot alone", in: "{{.}}", quote: true, wantErr: "unsupported {{.}}"},
		{name: "function call", in: "{{printf .name}}", quote: true, wantErr: "unsupported"},
		{name: "two words", in: "{{.name .space}}", quote: true, wantErr: "unsupported"},
		{name: "unterminated literal", in: `{{"abc}}`, quote: true, wantErr: "bad quoted text"},
		{name: "text after literal", in: `{{"a" .name}}`, quote: true, wantErr: `expected }} after "a"`},
		{name: "long input is clipped in errors", in: "{{" + strings.Repeat("x", 100), quote: true, wantErr: "...\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expandFor(tt.in, lookup, tt.quote)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("expand(%q) failed: %v", tt.in, err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("expand(%q) = %q, want an error containing %q", tt.in, got, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("expand(%q) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
			case got != tt.want:
				t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "echo hi", want: nil},
		{in: "{{.a}} {{ .b }} {{.a}}", want: []string{"a", "b", "a"}},
		{in: `{{"{{"}}.notaname}}`, want: nil},
		{in: "{{.a", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := names(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("names(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && !slices.Equal(got, tt.want) {
				t.Errorf("names(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// expandFor expands s as a shell command (quote) or as raw text.
func expandFor(s string, lookup func(string) (string, bool), quote bool) (string, error) {
	if !quote {
		return expand(s, lookup)
	}
	tmpl, err := parseShellTemplate(s)
	if err != nil {
		return "", err
	}
	return tmpl.render(lookup)
}
