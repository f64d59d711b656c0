package task

import (
	"fmt"
	"strconv"
	"strings"
)

// Commands and paths in tasks.toml may refer to arguments, vars and the
// current host as {{.name}}. In a shell command every value is written
// for the shell context it stands in (see shellctx.go), so that it is
// always its exact text and never code. Elsewhere (dir, env, put and get
// paths, a task step's args) the raw text is substituted. A literal "{{"
// is written {{"{{"}}, as in Go templates.
//
// This is deliberately a tiny subset of text/template: it is all tasks
// need, it costs nothing at start-up, and an unknown name is an error at
// load time rather than an empty string at run time.

// expand substitutes every {{.name}} in s with lookup(name), as it is.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		name, literal, rest, err := parseAction(s[i:])
		if err != nil {
			return "", err
		}
		s = rest
		if literal {
			b.WriteString(name)
			continue
		}
		v, ok := lookup(name)
		if !ok {
			return "", fmt.Errorf("unknown name {{.%s}}", name)
		}
		b.WriteString(v)
	}
}

// names returns every {{.name}} that s refers to.
func names(s string) ([]string, error) {
	var out []string
	_, err := expand(s, func(n string) (string, bool) {
		out = append(out, n)
		return "", true
	})
	return out, err
}

// parseAction parses one {{...}} at the start of s. It returns the name
// (or, for a quoted string, the literal text) and the rest of s.
func parseAction(s string) (name string, literal bool, rest string, err error) {
	end := strings.Index(s, "}}")
	if end < 0 {
		return "", false, "", fmt.Errorf("unclosed {{ in %q", clip(s))
	}
	// A quoted literal may itself contain "}}": find its closing quote.
	inner := strings.TrimSpace(s[2:end])
	if strings.HasPrefix(inner, `"`) {
		body := strings.TrimLeft(s[2:], " \t")
		q, err := strconv.QuotedPrefix(body)
		if err != nil {
			return "", false, "", fmt.Errorf("bad quoted text in %q", clip(s))
		}
		after := strings.TrimLeft(body[len(q):], " \t")
		if !strings.HasPrefix(after, "}}") {
			return "", false, "", fmt.Errorf("expected }} after %s", q)
		}
		text, _ := strconv.Unquote(q)
		return text, true, after[2:], nil
	}
	if !strings.HasPrefix(inner, ".") || !validName(inner[1:]) {
		return "", false, "", fmt.Errorf("unsupported {{%s}}: use {{.name}} for an argument or var, or {{\"{{\"}} for literal braces", s[2:end])
	}
	return inner[1:], false, s[end+2:], nil
}

func clip(s string) string {
	if len(s) > 30 {
		return s[:30] + "..."
	}
	return s
}
