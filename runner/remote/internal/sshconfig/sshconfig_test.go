package sshconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseConfigLine(t *testing.T) {
	tests := []struct {
		line string
		key  string   // "" for no line at all
		args []string // nil for none
		err  string   // a substring of the error, after "config:1: "
	}{
		// Keyword and value.
		{line: "User bob", key: "user", args: []string{"bob"}},
		{line: "USER bob", key: "user", args: []string{"bob"}},
		{line: "User=bob", key: "user", args: []string{"bob"}},
		{line: "User = bob", key: "user", args: []string{"bob"}},
		{line: "User= bob", key: "user", args: []string{"bob"}},
		{line: "User =bob", key: "user", args: []string{"bob"}},
		{line: "User==bob", key: "user", args: []string{"=bob"}},
		{line: "=User bob", key: "user", args: []string{"bob"}},
		{line: "  \tUser\tbob \t\r", key: "user", args: []string{"bob"}},
		{line: "Foo bar baz", key: "foo", args: []string{"bar", "baz"}},

		// Comments and blank lines.
		{line: ""},
		{line: "   \t"},
		{line: "# User bob"},
		{line: "   # User bob"},
		{line: "IdentityFile /k # a comment", key: "identityfile", args: []string{"/k"}},
		{line: "IdentityFile /a#b", key: "identityfile", args: []string{"/a#b"}},
		{line: "Foo # only a comment", key: "foo"},

		// Quotes and escapes.
		{line: `IdentityFile "/my keys/id"`, key: "identityfile", args: []string{"/my keys/id"}},
		{line: `IdentityFile '/my keys/id'`, key: "identityfile", args: []string{"/my keys/id"}},
		{line: `IdentityFile /my\ keys/id`, key: "identityfile", args: []string{"/my keys/id"}},
		{line: `IdentityFile a"b c"d`, key: "identityfile", args: []string{"ab cd"}},
		{line: `IdentityFile "a\"b"`, key: "identityfile", args: []string{`a"b`}},
		{line: `IdentityFile 'a"b'`, key: "identityfile", args: []string{`a"b`}},
		{line: `IdentityFile C:\keys\id`, key: "identityfile", args: []string{`C:\keys\id`}},
		{line: `IdentityFile "# not a comment"`, key: "identityfile", args: []string{"# not a comment"}},
		{line: `UserKnownHostsFile /k1 "/k 2" none`, key: "userknownhostsfile", args: []string{"/k1", "/k 2", "none"}},
		{line: `Host "a b" c`, key: "host", args: []string{"a b", "c"}},

		// Syntax errors.
		{line: "User", err: "User has no value"},
		{line: "User =", err: "User has no value"},
		{line: "User # comment", err: "User has no value"},
		{line: "Foo", err: "Foo has no value"},
		{line: `User "bob`, err: "User: unterminated quote"},
		{line: `IdentityFile 'a b`, err: "IdentityFile: unterminated quote"},
		{line: `Foo "bar`, err: "Foo: unterminated quote"},
		{line: "HostName a b", err: "HostName takes one value, not 2"},
		{line: `Port ""`, err: "Port has an empty value"},
		{line: "Host", err: "Host has no pattern"},
		{line: "Host # comment", err: "Host has no pattern"},
		{line: `Host a ""`, err: "Host has an empty pattern"},
		{line: "Include", err: "Include has no file name"},
		{line: `Include ""`, err: "Include has an empty file name"},
		{line: "Match", err: "Match has no criteria"},
		{line: "Match host", err: "Match host needs an argument"},
		{line: `Match user ""`, err: "Match user needs an argument"},
		{line: "Match !originalhost", err: "Match !originalhost needs an argument"},
		{line: "Match exec", err: "Match exec needs an argument"},
		{line: "Match all host x", err: "Match all cannot be combined"},
		{line: "Match canonical final all", err: "Match all cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			f, err := parseConfig("config", []byte(tt.line+"\n"))
			if tt.err != "" {
				if err == nil {
					t.Fatalf("no error; want %q", tt.err)
				}
				want := "config:1: " + tt.err
				if !strings.HasPrefix(err.Error(), want) || !errors.As(err, new(*Error)) {
					t.Fatalf("error %q, want an *Error starting with %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.key == "" {
				if len(f.lines) != 0 {
					t.Fatalf("got %+v, want no line", f.lines)
				}
				return
			}
			if len(f.lines) != 1 {
				t.Fatalf("got %d lines, want 1", len(f.lines))
			}
			ln := f.lines[0]
			if ln.key != tt.key || !slices.Equal(ln.args, tt.args) || ln.line != 1 || ln.file != "config" {
				t.Fatalf("got %s %q at %s:%d, want %s %q", ln.key, ln.args, ln.file, ln.line, tt.key, tt.args)
			}
		})
	}
}

func TestParseConfigMatch(t *testing.T) {
	tests := []struct {
		line  string
		want  string // the criteria as kind[=arg], ! for negated
		final bool
	}{
		{line: "Match all", want: "all"},
		{line: "Match !all", want: "!all"},
		{line: "Match canonical all", want: "canonical all"},
		{line: "Match final all", want: "final all", final: true},
		{line: "Match host x all", want: "host=x all"}, // ssh allows it
		{line: "Match Host a,!b", want: "host=a,!b"},
		{line: "Match host a user b", want: "host=a user=b"},
		{line: "Match !host a OriginalHost b", want: "!host=a originalhost=b"},
		{line: "Match localuser root # comment", want: "localuser=root"},
		{line: `Match exec "test -f /x" host y`, want: "exec=test -f /x host=y"},
		{line: "match=host x", want: "host=x"},
		{line: "Match tagged x host y", want: "tagged"}, // unknown: the rest is not parsed
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			f, err := parseConfig("config", []byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range f.lines[0].match {
				s := c.kind
				if c.negate {
					s = "!" + s
				}
				if c.arg != "" {
					s += "=" + c.arg
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != tt.want || f.final != tt.final {
				t.Fatalf("got %q final=%v, want %q final=%v", got, f.final, tt.want, tt.final)
			}
		})
	}
}

func TestParseConfigLineNumbers(t *testing.T) {
	text := "# header\n\nHost a\r\n  User x\n\n\n  Port 22 2\n"
	_, err := parseConfig("/etc/ssh/ssh_config", []byte(text))
	var ce *Error
	if !errors.As(err, &ce) || ce.File != "/etc/ssh/ssh_config" || ce.Line != 7 {
		t.Fatalf("error %v, want one at /etc/ssh/ssh_config:7", err)
	}
}

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		s, p string
		want bool
	}{
		{"web1", "web1", true},
		{"web1", "web*", true},
		{"web", "web*", true},
		{"web1", "web?", true},
		{"web", "web?", false}, // ? is exactly one character
		{"web12", "web?", false},
		{"a.b.example.com", "*.example.com", true},
		{"example.com", "*.example.com", false},
		{"", "*", true},
		{"", "", true},
		{"a", "", false},
		{"abc", "a*c*", true},
		{"abc", "*b", false},
		{"aaa", "a*a*a", true},
		{"aa", "a*a*a", false},
		{"ab", "?*?", true},
		{"a", "?*?", false},
		{"x", "**", true},
		{"WEB", "web", false}, // Host patterns are case-sensitive, as in ssh
		{"a*b", "a*b", true},
		{"aXXb", "a*b", true},
		{"10.0.0.7", "10.0.0.?", true},
		{"10.0.0.17", "10.0.0.?", false},
	}
	for _, tt := range tests {
		if got := matchPattern(tt.s, tt.p); got != tt.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tt.s, tt.p, got, tt.want)
		}
	}
}

func TestMatchList(t *testing.T) {
	tests := []struct {
		s, list string
		want    bool
	}{
		{"a", "a", true},
		{"b", "a,b", true},
		{"c", "a,b", false},
		{"web2", "web*,!web1", true},
		{"web1", "web*,!web1", false},
		{"web1", "!web1,web*", false},
		{"a", "!b", false}, // a negation alone never matches
		{"a", "!b,*", true},
		{"a", "a,", true},
		{"", ",", true},
	}
	for _, tt := range tests {
		if got := matchList(tt.s, tt.list); got != tt.want {
			t.Errorf("matchList(%q, %q) = %v, want %v", tt.s, tt.list, got, tt.want)
		}
	}
}

// lookupIn parses text as the only ssh_config file and looks host up,
// as user@host when user is set.
func lookupIn(t *testing.T, text, alias, user string) *Host {
	t.Helper()
	f, err := parseConfig("config", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	sc := &Config{names: []string{"config"}, files: []*configFile{f}, final: f.final}
	return sc.Lookup(alias, user, "defaultuser")
}

func TestLookup(t *testing.T) {
	me := LocalUser()
	tests := []struct {
		name   string
		config string
		host   string // user@alias or alias
		want   map[string]string
		all    map[string][]string // getAll
	}{
		{
			name:   "first value obtained wins",
			config: "Host web\n User first\nHost web\n User second\n Port 2\nHost *\n User third\n Port 3\n",
			host:   "web",
			want:   map[string]string{"User": "first", "Port": "2"},
		},
		{
			name:   "Host * first wins over what follows",
			config: "Host *\n User star\nHost web\n User web\n",
			host:   "web",
			want:   map[string]string{"User": "star"},
		},
		{
			name:   "lines before the first Host apply to every host",
			config: "User everyone\nHost web\n User web\n",
			host:   "db",
			want:   map[string]string{"User": "everyone"},
		},
		{
			name:   "multi-valued keywords accumulate in order, without repeats",
			config: "Host web\n IdentityFile /a\n CertificateFile /a-cert\nHost w*\n IdentityFile /b\n IdentityFile /a\n LocalForward 1 h:1\nHost *\n IdentityFile /c\n LocalForward 2 h:2\n",
			host:   "web",
			all:    map[string][]string{"IdentityFile": {"/a", "/b", "/c"}, "CertificateFile": {"/a-cert"}, "LocalForward": {"1", "2"}},
		},
		{
			name:   "SetEnv and UserKnownHostsFile: the first line wins",
			config: "Host *\n SetEnv A=1 B=2\n SetEnv C=3\n UserKnownHostsFile /k1 /k2\n UserKnownHostsFile /k3\n",
			host:   "web",
			all:    map[string][]string{"SetEnv": {"A=1"}, "UserKnownHostsFile": {"/k1"}},
		},
		{
			name:   "ProxyCommand keeps its line raw, quotes and all",
			config: "Host web\n ProxyCommand sh -c 'exec nc \"%h\" %p'\n",
			host:   "web",
			want:   map[string]string{"ProxyCommand": "sh -c 'exec nc \"%h\" %p'"},
		},
		{
			name:   "ProxyCommand with an odd quote is the shell's business",
			config: "Host web\n ProxyCommand=nc it's %h\n",
			host:   "web",
			want:   map[string]string{"ProxyCommand": "nc it's %h"},
		},
		{
			name:   "ProxyJump first: a later ProxyCommand is ignored",
			config: "Host web\n ProxyJump bastion\nHost *\n ProxyCommand nc %h %p\n",
			host:   "web",
			want:   map[string]string{"ProxyJump": "bastion", "ProxyCommand": ""},
		},
		{
			name:   "ProxyCommand first: a later ProxyJump is ignored",
			config: "Host web\n ProxyCommand nc %h %p\nHost *\n ProxyJump bastion\n",
			host:   "web",
			want:   map[string]string{"ProxyJump": "", "ProxyCommand": "nc %h %p"},
		},
		{
			name:   "ProxyJump none first also wins",
			config: "Host web\n ProxyJump none\nHost *\n ProxyCommand nc %h %p\n",
			host:   "web",
			want:   map[string]string{"ProxyJump": "none", "ProxyCommand": ""},
		},
		{
			name:   "a keyword with only a comment sets nothing",
			config: "Host *\n UserKnownHostsFile # later\n UserKnownHostsFile /k\n",
			host:   "web",
			want:   map[string]string{"UserKnownHostsFile": "/k"},
		},
		{
			name:   "negated pattern",
			config: "Host *.internal !bad.internal\n User internal\nHost *\n User other\n",
			host:   "bad.internal",
			want:   map[string]string{"User": "other"},
		},
		{
			name:   "negated pattern, before the positive one",
			config: "Host !bad.internal *.internal\n User internal\n",
			host:   "ok.internal",
			want:   map[string]string{"User": "internal"},
		},
		{
			name:   "a negation alone matches nothing",
			config: "Host !web\n User notweb\n",
			host:   "db",
			want:   map[string]string{"User": ""},
		},
		{
			name:   "Host patterns are matched case-sensitively, as ssh does",
			config: "Host web\n User lower\nHost WEB\n User upper\n",
			host:   "WEB",
			want:   map[string]string{"User": "upper"},
		},
		{
			name:   "?",
			config: "Host web?\n User q\n",
			host:   "web",
			want:   map[string]string{"User": ""},
		},
		{
			name:   "Match all",
			config: "Host other\n User other\nMatch all\n User all\n",
			host:   "web",
			want:   map[string]string{"User": "all"},
		},
		{
			name:   "Match !all",
			config: "Match !all\n User none\n",
			host:   "web",
			want:   map[string]string{"User": ""},
		},
		{
			name:   "Match host list",
			config: "Match host db,web*,!web2\n User matched\n",
			host:   "web1",
			want:   map[string]string{"User": "matched"},
		},
		{
			name:   "Match host list with a negation",
			config: "Match host db,web*,!web2\n User matched\n",
			host:   "web2",
			want:   map[string]string{"User": ""},
		},
		{
			name:   "Match host sees the HostName set so far, case-insensitively",
			config: "Host web\n HostName Web.Example.COM\nMatch host *.example.com\n User deploy\n",
			host:   "web",
			want:   map[string]string{"User": "deploy", "HostName": "Web.Example.COM"},
		},
		{
			name:   "Match host expands %h",
			config: "Host web\n HostName %h.example.com\nMatch host web.example.com\n User deploy\n",
			host:   "web",
			want:   map[string]string{"User": "deploy"},
		},
		{
			name:   "Match originalhost sees the alias",
			config: "Host web\n HostName web.example.com\nMatch originalhost WEB\n Port 2200\nMatch host web\n User no\n",
			host:   "web",
			want:   map[string]string{"Port": "2200", "User": ""},
		},
		{
			name:   "Match !host",
			config: "Match !host db*\n User notdb\n",
			host:   "web",
			want:   map[string]string{"User": "notdb"},
		},
		{
			name:   "Match user: the host string's user",
			config: "Match user bob\n Port 2201\n",
			host:   "bob@web",
			want:   map[string]string{"Port": "2201"},
		},
		{
			name:   "Match user: the User set so far",
			config: "Match user bob\n Port 2201\nHost *\n User bob\nMatch user bob\n Port 2202\n",
			host:   "web",
			want:   map[string]string{"Port": "2202"},
		},
		{
			name:   "Match user: the default user",
			config: "Match user default*\n Port 2203\n",
			host:   "web",
			want:   map[string]string{"Port": "2203"},
		},
		{
			name:   "Match user is case-sensitive",
			config: "Match user BOB\n Port 2201\n",
			host:   "bob@web",
			want:   map[string]string{"Port": ""},
		},
		{
			name:   "Match localuser",
			config: "Match localuser " + me + "\n Port 2204\n",
			host:   "web",
			want:   map[string]string{"Port": "2204"},
		},
		{
			name:   "all criteria must hold",
			config: "Match host web user alice\n Port 1\nMatch host web user bob\n Port 2\n",
			host:   "bob@web",
			want:   map[string]string{"Port": "2"},
		},
		{
			name:   "Match exec is never run and matches nothing",
			config: "Match exec true\n User exec\nMatch !exec false\n User notexec\n",
			host:   "web",
			want:   map[string]string{"User": ""},
		},
		{
			name:   "an unknown Match criterion matches nothing",
			config: "Match tagged x\n User tagged\nMatch all\n User all\n",
			host:   "web",
			want:   map[string]string{"User": "all"},
		},
		{
			name:   "Match canonical and final do not match without a final pass",
			config: "Match canonical\n User canonical\n",
			host:   "web",
			want:   map[string]string{"User": ""},
		},
		{
			name:   "Match final: a second pass, where Host matches the HostName",
			config: "Host a\n HostName B.example\nHost b.example\n User fromb\nMatch final all\n Port 2222\nMatch final host b.example originalhost a\n IdentityFile /final\n",
			host:   "a",
			want:   map[string]string{"User": "fromb", "Port": "2222", "HostName": "B.example"},
			all:    map[string][]string{"IdentityFile": {"/final"}},
		},
		{
			name:   "the final pass keeps the HostName of the first",
			config: "Match final\n HostName other\n User final\n",
			host:   "web",
			want:   map[string]string{"HostName": "web", "User": "final"},
		},
		{
			name:   "the final pass does not repeat identity files",
			config: "Host *\n IdentityFile /a\nMatch final\n IdentityFile /b\n",
			host:   "web",
			all:    map[string][]string{"IdentityFile": {"/a", "/b"}},
		},
		{
			name:   "CanonicalizeHostname asks for a final pass too",
			config: "CanonicalizeHostname yes\nMatch canonical\n User canonical\n",
			host:   "web",
			want:   map[string]string{"User": "canonical"},
		},
		{
			name:   "keywords are case-insensitive, values are not",
			config: "HOST web\n hOsTnAmE Web.Example\n",
			host:   "web",
			want:   map[string]string{"HostName": "Web.Example"},
		},
		{
			name:   "quoted values",
			config: "Host web\n IdentityFile \"/my keys/id\"\n UserKnownHostsFile \"/kh 1\" /kh2\n",
			host:   "web",
			all:    map[string][]string{"IdentityFile": {"/my keys/id"}, "UserKnownHostsFile": {"/kh 1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, alias, ok := strings.Cut(tt.host, "@")
			if !ok {
				user, alias = "", tt.host
			}
			hc := lookupIn(t, tt.config, alias, user)
			for k, want := range tt.want {
				if got := hc.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for k, want := range tt.all {
				if got := hc.GetAll(k); !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// includeSetup is a home directory, a system directory and files in
// them, written from name -> content; names are relative to root.
func includeSetup(t *testing.T, files map[string]string) (root string, l *configLoader) {
	t.Helper()
	root = t.TempDir()
	for name, content := range files {
		writeFile(t, filepath.Join(root, name), content)
	}
	return root, &configLoader{home: filepath.Join(root, "home"), sysDir: filepath.Join(root, "etc")}
}

func TestInclude(t *testing.T) {
	t.Run("relative paths: ~/.ssh for a user's file, the system directory for the system-wide one", func(t *testing.T) {
		root, l := includeSetup(t, map[string]string{
			"home/.ssh/config":        "Include conf.d/*.conf\n",
			"home/.ssh/conf.d/a.conf": "Host a\n User user-a\n",
			"etc/ssh_config":          "Include conf.d/*.conf\n",
			"etc/conf.d/b.conf":       "Host a b\n User sys\n Port 2\n",
		})
		sc, err := l.load(
			configSource{name: filepath.Join(root, "home/.ssh/config"), user: true},
			configSource{name: filepath.Join(root, "etc/ssh_config")},
		)
		if err != nil {
			t.Fatal(err)
		}
		a := sc.Lookup("a", "", "")
		if a.Get("User") != "user-a" || a.Get("Port") != "2" {
			t.Errorf("a: User %q Port %q, want user-a and 2", a.Get("User"), a.Get("Port"))
		}
		if b := sc.Lookup("b", "", ""); b.Get("User") != "sys" {
			t.Errorf("b: User %q, want sys", b.Get("User"))
		}
	})

	t.Run("~ and absolute paths", func(t *testing.T) {
		root, l := includeSetup(t, map[string]string{
			"home/extra": "Host a\n User tilde\n",
			"abs":        "Host *\n User abs\n Port 3\n",
		})
		writeFile(t, filepath.Join(root, "config"), "Include ~/extra "+filepath.Join(root, "abs")+"\n")
		sc, err := l.load(configSource{name: filepath.Join(root, "config"), user: true})
		if err != nil {
			t.Fatal(err)
		}
		if hc := sc.Lookup("a", "", ""); hc.Get("User") != "tilde" || hc.Get("Port") != "3" {
			t.Errorf("User %q Port %q, want tilde and 3", hc.Get("User"), hc.Get("Port"))
		}
	})

	t.Run("globs: lexical order, no hidden files, [!...] classes, no match is fine", func(t *testing.T) {
		root, l := includeSetup(t, map[string]string{
			"home/.ssh/config":    "Include d/* nothing/* nothing\nInclude e/[!x]*\n",
			"home/.ssh/d/20":      "IdentityFile /20\n",
			"home/.ssh/d/10":      "IdentityFile /10\n",
			"home/.ssh/d/.hidden": "IdentityFile /hidden\n",
			"home/.ssh/d/sub/x":   "IdentityFile /subdir\n",
			"home/.ssh/e/a":       "IdentityFile /e-a\n",
			"home/.ssh/e/x":       "IdentityFile /e-x\n",
		})
		sc, err := l.load(configSource{name: filepath.Join(root, "home/.ssh/config"), user: true})
		if err != nil {
			t.Fatal(err)
		}
		got := sc.Lookup("h", "", "").GetAll("IdentityFile")
		if want := []string{"/10", "/20", "/e-a"}; !slices.Equal(got, want) {
			t.Errorf("IdentityFile %q, want %q (sorted; the directory d/sub, .hidden and e/x left out)", got, want)
		}
	})

	t.Run("an Include in a block applies only where the block does", func(t *testing.T) {
		root, l := includeSetup(t, map[string]string{
			"home/.ssh/config": "Host web\n Include inc\n IdentityFile /after-include\nHost db\n Include inc\nHost *\n Port 4444\n",
			"home/.ssh/inc":    "User from-inc\nHost other\n Port 1111\nMatch all\n IdentityFile /inc-all\n",
		})
		sc, err := l.load(configSource{name: filepath.Join(root, "home/.ssh/config"), user: true})
		if err != nil {
			t.Fatal(err)
		}
		web := sc.Lookup("web", "", "")
		if web.Get("User") != "from-inc" || web.Get("Port") != "4444" {
			t.Errorf("web: User %q Port %q, want from-inc and 4444", web.Get("User"), web.Get("Port"))
		}
		// The included file's Match all does not leak out of it.
		if got, want := web.GetAll("IdentityFile"), []string{"/inc-all", "/after-include"}; !slices.Equal(got, want) {
			t.Errorf("web: IdentityFile %q, want %q", got, want)
		}
		// other is named in the included file, but only in a block
		// that does not apply to it.
		other := sc.Lookup("other", "", "")
		if other.Get("User") != "" || other.Get("Port") != "4444" || other.GetAll("IdentityFile") != nil {
			t.Errorf("other: User %q Port %q IdentityFile %q, want none of inc", other.Get("User"), other.Get("Port"), other.GetAll("IdentityFile"))
		}
	})

	t.Run("Include nests 16 deep, not more", func(t *testing.T) {
		files := map[string]string{}
		for i := range 16 {
			files["home/.ssh/f"+strconv.Itoa(i)] = "Include f" + strconv.Itoa(i+1) + "\n"
		}
		files["home/.ssh/f16"] = "User deep\n"
		root, l := includeSetup(t, files)
		sc, err := l.load(configSource{name: filepath.Join(root, "home/.ssh/f0"), user: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := sc.Lookup("x", "", "").Get("User"); got != "deep" {
			t.Errorf("User %q, want deep", got)
		}
		writeFile(t, filepath.Join(root, "home/.ssh/f16"), "Include f17\n")
		writeFile(t, filepath.Join(root, "home/.ssh/f17"), "User too-deep\n")
		_, err = l.load(configSource{name: filepath.Join(root, "home/.ssh/f0"), user: true})
		if want := filepath.Join(root, "home/.ssh/f16") + ":1: Include f17 nests more than 16 files deep"; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %v, want %q...", err, want)
		}
	})

	errorTests := []struct {
		name  string
		files map[string]string
		src   configSource // name relative to root
		want  string       // relative to root; the error starts with it
	}{
		{
			name:  "a file that includes itself",
			files: map[string]string{"home/.ssh/config": "Host *\n\n  Include config\n"},
			src:   configSource{name: "home/.ssh/config", user: true},
			want:  "home/.ssh/config:3: Include config nests more than 16 files deep; does a file include itself?",
		},
		{
			name:  "a bad glob pattern",
			files: map[string]string{"home/.ssh/config": "User x\nInclude [\n"},
			src:   configSource{name: "home/.ssh/config", user: true},
			want:  "home/.ssh/config:2: Include: bad glob pattern",
		},
		{
			name:  "~ in the system-wide file",
			files: map[string]string{"etc/ssh_config": "Include ~/x\n"},
			src:   configSource{name: "etc/ssh_config"},
			want:  "etc/ssh_config:1: Include ~/x: ~ is only allowed in a user's ssh_config",
		},
		{
			name:  "a syntax error in an included file names that file",
			files: map[string]string{"home/.ssh/config": "Include inc\n", "home/.ssh/inc": "\nUser \"x\n"},
			src:   configSource{name: "home/.ssh/config", user: true},
			want:  "home/.ssh/inc:2: User: unterminated quote",
		},
		{
			name:  "a syntax error in an included file that never applies",
			files: map[string]string{"home/.ssh/config": "Host nothing\n Include inc\n", "home/.ssh/inc": "Match host\n"},
			src:   configSource{name: "home/.ssh/config", user: true},
			want:  "home/.ssh/inc:1: Match host needs an argument",
		},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			root, l := includeSetup(t, tt.files)
			src := tt.src
			src.name = filepath.Join(root, src.name)
			_, err := l.load(src)
			want := filepath.Join(root, tt.want)
			if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, new(*Error)) {
				t.Fatalf("error %v, want %q...", err, want)
			}
		})
	}

	t.Run("no home directory for a relative Include", func(t *testing.T) {
		root, l := includeSetup(t, map[string]string{"config": "Include conf.d/*\n"})
		l.home = ""
		_, err := l.load(configSource{name: filepath.Join(root, "config"), user: true})
		want := filepath.Join(root, "config") + ":1: Include conf.d/*: no home directory to find it in"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("error %v, want %q...", err, want)
		}
	})

	t.Run("an included directory is skipped, as ssh does", func(t *testing.T) {
		root, l := includeSetup(t, map[string]string{
			"home/.ssh/config":   "Include dir\nUser after\n",
			"home/.ssh/dir/file": "User in-dir\n",
		})
		sc, err := l.load(configSource{name: filepath.Join(root, "home/.ssh/config"), user: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := sc.Lookup("x", "", "").Get("User"); got != "after" {
			t.Errorf("User %q, want after", got)
		}
	})

	t.Run("an included file others may write is refused, as ssh does", func(t *testing.T) {
		root, l := includeSetup(t, map[string]string{
			"home/.ssh/config": "Include inc\n",
			"home/.ssh/inc":    "User x\n",
		})
		inc := filepath.Join(root, "home/.ssh/inc")
		if err := os.Chmod(inc, 0o666); err != nil {
			t.Fatal(err)
		}
		_, err := l.load(configSource{name: filepath.Join(root, "home/.ssh/config"), user: true})
		if safeConfigPerm(mustStat(t, inc)) {
			t.Skip("this system does not check ownership")
		}
		want := filepath.Join(root, "home/.ssh/config") + ":1: Include: bad owner or permissions on " + inc
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("error %v, want %q...", err, want)
		}
	})
}

func mustStat(t *testing.T, name string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestLoadSSHConfigUserFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cfg := writeFile(t, filepath.Join(home, ".ssh", "config"), "Include conf.d/*\n")
	writeFile(t, filepath.Join(home, ".ssh", "conf.d", "a"), "Host gotask-test-alias\n User from-home\n")

	sc, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.names) == 0 || sc.names[0] != cfg {
		t.Fatalf("read %q, want %s first", sc.names, cfg)
	}
	if got := sc.Lookup("gotask-test-alias", "", "").Get("User"); got != "from-home" {
		t.Errorf("User %q, want from-home", got)
	}

	if err := os.Chmod(cfg, 0o620); err != nil {
		t.Fatal(err)
	}
	_, err = Load("")
	if safeConfigPerm(mustStat(t, cfg)) {
		t.Skip("this system does not check ownership")
	}
	if err == nil || !strings.Contains(err.Error(), "bad owner or permissions on "+cfg) {
		t.Errorf("error %v, want bad owner or permissions", err)
	}
	// ssh -F does not check the file it is given.
	if _, err := Load(cfg); err != nil {
		t.Errorf("-F: %v", err)
	}
}

// FuzzSSHConfig checks that parsing and evaluating any ssh_config never
// panics, and that every parse error names the file and a line of it.
func FuzzSSHConfig(f *testing.F) {
	for _, s := range []string{
		"Host web\n  HostName 10.0.0.1\n  User deploy\n",
		"Host *.internal !bad.internal\nMatch host a,!b user c\n",
		"User=\"a b\" # c\nIdentityFile 'x y'\\ z\n",
		"Match final all\nHost b.example\n  Port 2\n",
		"Match exec \"x\nHost\n",
		"Include *\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz_config"
		cf, err := parseConfig(name, data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %q is not a *Error", err)
			}
			lines := strings.Count(string(data), "\n") + 1
			if ce.File != name || ce.Line < 1 || ce.Line > lines {
				t.Fatalf("error %q at %s:%d, outside the file's %d lines", err, ce.File, ce.Line, lines)
			}
			if prefix := fmt.Sprintf("%s:%d: ", name, ce.Line); !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("error %q does not start with %q", err, prefix)
			}
			return
		}
		sc := &Config{names: []string{name}, files: []*configFile{cf}, final: cf.final}
		for _, alias := range []string{"web", "WEB", "a.b.example", ""} {
			hc := sc.Lookup(alias, "", "u")
			_ = hc.GetAll("IdentityFile")
			_ = hc.Args("UserKnownHostsFile")
		}
	})
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
