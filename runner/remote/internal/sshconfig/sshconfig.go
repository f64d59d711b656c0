package sshconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// maxIncludeDepth is how deeply Include lines may nest, as in OpenSSH.
const maxIncludeDepth = 16

// systemConfigDir is where the system-wide ssh_config lives; its relative
// Include paths are resolved against it.
const systemConfigDir = "/etc/ssh"

// An Error is a mistake in an ssh_config file, at a line. Package
// remote turns it into its own ConfigFileError, which has the same fields.
type Error struct {
	File string // the file
	Line int    // the line, from 1; 0 when the mistake is not on one line
	Msg  string // what is wrong
	Err  error  // the cause, if any; its text follows Msg
}

// Error returns "file:line: msg: cause".
func (e *Error) Error() string {
	where := e.File
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	msg := e.Msg
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return where + ": " + msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Config holds parsed ssh_config files in precedence order: for a
// single-valued keyword the first value obtained wins, as in OpenSSH.
type Config struct {
	names []string      // the files read, for errors
	files []*configFile // their contents, Include lines expanded
	final bool          // some Match line asks for a final pass
}

// configFile is one parsed ssh_config file.
type configFile struct {
	name  string
	lines []configLine
	final bool // a Match line in this file (not its includes) has "final"
}

// configLine is one keyword line of a file; blank lines and comments are
// dropped.
type configLine struct {
	key  string   // the keyword, in lower case
	args []string // the arguments, quotes and escapes removed
	file string
	line int

	match    []matchCriterion // Match: its criteria
	included []*configFile    // Include: the files it names, in order
}

// A matchCriterion is one criterion of a Match line.
type matchCriterion struct {
	kind   string // lower case: all, canonical, final, host, originalhost, user, localuser, exec, or one this reader does not know
	negate bool
	arg    string
}

// Load reads the files path names: path alone (like ssh -F FILE), no
// file for "none", or ~/.ssh/config and then /etc/ssh/ssh_config for "".
// A missing default file is skipped; a missing explicit one is an error.
// Errors in a file are *Error.
func Load(path string) (*Config, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		if u, err := user.Current(); err == nil {
			home = u.HomeDir
		}
	}
	l := &configLoader{home: home, sysDir: systemConfigDir}
	switch path {
	case "none":
		return &Config{}, nil
	case "":
		var sources []configSource
		if home != "" {
			// Like ssh, refuse a ~/.ssh/config that others could write.
			sources = append(sources, configSource{name: filepath.Join(home, ".ssh", "config"), user: true, checkPerm: true})
		}
		sources = append(sources, configSource{name: filepath.Join(systemConfigDir, "ssh_config")})
		return l.load(sources...)
	default:
		return l.load(configSource{name: l.expandTilde(path), user: true, explicit: true})
	}
}

// configSource is a top-level ssh_config file to read.
type configSource struct {
	name      string
	user      bool // a user's file: relative Include paths are under ~/.ssh, and ~ is allowed
	explicit  bool // named by the user: missing is an error
	checkPerm bool // refuse the file if others may write it
}

// configLoader reads ssh_config files and the files they include.
type configLoader struct {
	home   string // the user's home directory, for ~ and ~/.ssh
	sysDir string // where relative Include paths of the system-wide file point
}

func (l *configLoader) load(sources ...configSource) (*Config, error) {
	sc := &Config{}
	for _, src := range sources {
		f, err := l.readTop(src)
		if err != nil {
			return nil, err
		}
		if f == nil {
			continue
		}
		sc.names = append(sc.names, src.name)
		sc.files = append(sc.files, f)
		sc.final = sc.final || f.hasFinal()
	}
	return sc, nil
}

func (l *configLoader) readTop(src configSource) (*configFile, error) {
	data, err := readConfigFile(src.name, src.checkPerm)
	if err != nil {
		if !src.explicit && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading ssh config: %w", err)
	}
	if data == nil {
		// A directory: ssh reads it as an empty file.
		return &configFile{name: src.name}, nil
	}
	f, err := parseConfig(src.name, data)
	if err != nil {
		return nil, err
	}
	return f, l.expandIncludes(f, src.user, 0)
}

// expandIncludes reads the files that f's Include lines name, as ssh
// does: relative paths are under ~/.ssh for a user's file and under
// /etc/ssh for the system-wide one, glob patterns match in lexical
// order (a pattern that matches nothing is fine), and the included files
// are read with the same rules, at most maxIncludeDepth deep.
func (l *configLoader) expandIncludes(f *configFile, userFile bool, depth int) error {
	for i := range f.lines {
		ln := &f.lines[i]
		if ln.key != "include" {
			continue
		}
		for _, arg := range ln.args {
			if arg[0] == '~' && !userFile {
				return &Error{File: f.name, Line: ln.line, Msg: fmt.Sprintf("Include %s: ~ is only allowed in a user's ssh_config", arg)}
			}
			pattern := arg
			if arg[0] == '~' {
				pattern = l.expandTilde(arg)
			} else if !filepath.IsAbs(arg) {
				dir := l.sysDir
				if userFile {
					dir = filepath.Join(l.home, ".ssh")
				}
				pattern = filepath.Join(dir, arg)
			}
			if !filepath.IsAbs(pattern) {
				return &Error{File: f.name, Line: ln.line, Msg: fmt.Sprintf("Include %s: no home directory to find it in; set $HOME", arg)}
			}
			names, err := globFiles(pattern)
			if err != nil {
				return &Error{File: f.name, Line: ln.line, Msg: "Include", Err: err}
			}
			for _, name := range names {
				if depth+1 > maxIncludeDepth {
					return &Error{File: f.name, Line: ln.line, Msg: fmt.Sprintf("Include %s nests more than %d files deep; does a file include itself?", arg, maxIncludeDepth)}
				}
				data, err := readConfigFile(name, true)
				if errors.Is(err, fs.ErrNotExist) || (err == nil && data == nil) {
					continue // gone since the glob, or a directory: ssh skips both
				}
				if err != nil {
					return &Error{File: f.name, Line: ln.line, Msg: "Include", Err: err}
				}
				inc, err := parseConfig(name, data)
				if err != nil {
					return err
				}
				if err := l.expandIncludes(inc, userFile, depth+1); err != nil {
					return err
				}
				ln.included = append(ln.included, inc)
			}
		}
	}
	return nil
}

// expandTilde expands a leading ~ or ~user as the shell does; a user
// that does not exist leaves the path as it is.
func (l *configLoader) expandTilde(p string) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	name, rest, _ := strings.Cut(p[1:], "/")
	home := l.home
	if name != "" {
		u, err := user.Lookup(name)
		if err != nil {
			return p
		}
		home = u.HomeDir
	}
	if home == "" {
		return p
	}
	return filepath.Join(home, rest)
}

// readConfigFile reads a file. It returns nil and no error for a
// directory. With checkPerm it refuses a file that is not owned by the
// user or root, or that others may write, as ssh does for ~/.ssh/config
// and included files.
func readConfigFile(name string, checkPerm bool) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, nil
	}
	if checkPerm && !safeConfigPerm(fi) {
		return nil, fmt.Errorf("bad owner or permissions on %s: it must belong to you or root and be writable only by its owner, as ssh requires (chmod go-w %s)", name, name)
	}
	return io.ReadAll(f)
}

// globFiles expands a glob(7) pattern as OpenSSH's Include does: "[!...]"
// negates a class, a wildcard does not match a leading dot, and the
// names come back sorted.
func globFiles(pattern string) ([]string, error) {
	clean := filepath.Clean(posixClasses(pattern))
	names, err := filepath.Glob(clean)
	if err != nil {
		return nil, fmt.Errorf("bad glob pattern %q", pattern)
	}
	want := strings.Split(clean, string(filepath.Separator))
	names = slices.DeleteFunc(names, func(name string) bool {
		got := strings.Split(name, string(filepath.Separator))
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if strings.HasPrefix(got[i], ".") && !strings.HasPrefix(want[i], ".") {
				return true
			}
		}
		return false
	})
	slices.Sort(names)
	return names, nil
}

// posixClasses rewrites glob(7)'s negated class "[!...]" as the "[^...]"
// that path/filepath understands.
func posixClasses(p string) string {
	if !strings.Contains(p, "[!") {
		return p
	}
	b := []byte(p)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\\':
			i++
		case b[i] == '[' && i+1 < len(b) && b[i+1] == '!':
			b[i+1] = '^'
		}
	}
	return string(b)
}

// parseConfig parses the text of one ssh_config file. It checks the
// syntax of every line, whether or not its block will ever apply, as ssh
// does; keywords it does not know are kept but not checked, since a file
// may be written for a newer OpenSSH. Include lines keep their arguments;
// the loader reads the files they name.
func parseConfig(name string, data []byte) (*configFile, error) {
	f := &configFile{name: name}
	text := string(data)
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		keyword, value := splitKeyword(line)
		if keyword == "" {
			continue
		}
		errorf := func(format string, a ...any) error {
			return &Error{File: name, Line: n, Msg: fmt.Sprintf(format, a...)}
		}
		args, ok := splitArgs(value)
		if rawValue(strings.ToLower(keyword)) && !strings.HasPrefix(value, "#") {
			// A command line for sh, as ssh keeps it: quotes and all.
			args, ok = []string{value}, true
		}
		if !ok {
			return nil, errorf("%s: unterminated quote", keyword)
		}
		ln := configLine{key: strings.ToLower(keyword), args: args, file: name, line: n}
		switch ln.key {
		case "host":
			if len(args) == 0 {
				return nil, errorf("Host has no pattern")
			}
			if slices.Contains(args, "") {
				return nil, errorf("Host has an empty pattern")
			}
		case "match":
			crit, final, msg := parseMatch(args)
			if msg != "" {
				return nil, errorf("%s", msg)
			}
			ln.match = crit
			f.final = f.final || final
		case "include":
			if len(args) == 0 {
				return nil, errorf("Include has no file name")
			}
			if slices.Contains(args, "") {
				return nil, errorf("Include has an empty file name")
			}
		default:
			switch {
			case value == "" || (takesOneValue(ln.key) && len(args) == 0):
				return nil, errorf("%s has no value", keyword)
			case !takesOneValue(ln.key):
			case len(args) > 1:
				return nil, errorf("%s takes one value, not %d (quote a value that has spaces)", keyword, len(args))
			case args[0] == "":
				return nil, errorf("%s has an empty value", keyword)
			}
		}
		f.lines = append(f.lines, ln)
	}
	return f, nil
}

// splitKeyword splits a line into its keyword and the raw text of its
// value, which follows whitespace, or an '=' with optional whitespace
// around it. keyword is empty for a blank line or a comment.
func splitKeyword(line string) (keyword, value string) {
	s := strings.TrimRight(line, " \t\r\n\f")
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" || s[0] == '#' {
			return "", ""
		}
		if s[0] != '=' {
			break
		}
		s = s[1:] // ssh skips an empty keyword before '='
	}
	i := strings.IndexAny(s, " \t=")
	if i < 0 {
		return s, ""
	}
	keyword, s = s[:i], s[i:]
	if s[0] == '=' {
		s = strings.TrimLeft(s[1:], " \t")
	} else if s = strings.TrimLeft(s, " \t"); strings.HasPrefix(s, "=") {
		s = strings.TrimLeft(s[1:], " \t")
	}
	return keyword, s
}

// splitArgs splits a value into arguments as ssh does: arguments are
// separated by spaces or tabs, may be wrapped in double or single quotes
// (in whole or in part), and a backslash escapes a quote, a backslash, or
// (outside quotes) a space. A '#' at the start of an argument begins a
// comment. ok is false for an unterminated quote.
func splitArgs(s string) (args []string, ok bool) {
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		if s[i] == '#' {
			break
		}
		var b strings.Builder
		var quote byte
	arg:
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\'' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')):
				i++
				b.WriteByte(s[i])
			case quote == 0 && (c == ' ' || c == '\t'):
				break arg
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case quote != 0 && c == quote:
				quote = 0
			default:
				b.WriteByte(c)
			}
		}
		if quote != 0 {
			return nil, false
		}
		args = append(args, b.String())
	}
	return args, true
}

// parseMatch parses the criteria of a Match line. final reports a
// "final" criterion; msg says what is wrong, if anything.
func parseMatch(args []string) (crit []matchCriterion, final bool, msg string) {
	if len(args) == 0 {
		return nil, false, "Match has no criteria"
	}
	for i := 0; i < len(args); i++ {
		c := matchCriterion{kind: args[i]}
		if strings.HasPrefix(c.kind, "!") {
			c.negate, c.kind = true, c.kind[1:]
		}
		c.kind = strings.ToLower(c.kind)
		switch c.kind {
		case "all":
			// Alone, or right after canonical or final, as in ssh.
			if len(crit) > 1 || i+1 < len(args) {
				return nil, false, "Match all cannot be combined with other criteria"
			}
		case "canonical":
		case "final":
			final = true
		case "host", "originalhost", "user", "localuser", "exec":
			if i+1 == len(args) || args[i+1] == "" {
				return nil, false, fmt.Sprintf("Match %s needs an argument", args[i])
			}
			i++
			c.arg = args[i]
		default:
			// A criterion of a newer OpenSSH: the block matches
			// nothing, and what follows cannot be parsed without
			// knowing whether it takes an argument.
			return append(crit, c), final, ""
		}
		crit = append(crit, c)
	}
	return crit, final, ""
}

// takesOneValue reports the keywords that gotask reads and that take
// exactly one value per line; parseConfig checks their lines.
func takesOneValue(key string) bool {
	switch key {
	case "hostname", "user", "port", "identityfile", "certificatefile",
		"identitiesonly", "proxyjump", "stricthostkeychecking",
		"hashknownhosts", "connecttimeout", "serveraliveinterval",
		"serveralivecountmax", "canonicalizehostname":
		return true
	}
	return false
}

// rawValue reports the keywords whose value is the rest of the line,
// unsplit, as ssh reads them: a command for the shell.
func rawValue(key string) bool {
	return key == "proxycommand"
}

// accumulates reports the keywords whose every line adds a value; for
// all others the first value obtained wins. (SetEnv, UserKnownHostsFile
// and GlobalKnownHostsFile take several values on one line, but their
// first line wins, as in ssh.)
func accumulates(key string) bool {
	switch key {
	case "identityfile", "certificatefile", "localforward", "remoteforward", "dynamicforward", "sendenv":
		return true
	}
	return false
}

func (f *configFile) hasFinal() bool {
	if f.final {
		return true
	}
	for i := range f.lines {
		for _, inc := range f.lines[i].included {
			if inc.hasFinal() {
				return true
			}
		}
	}
	return false
}

// Where names the files a setting may have come from, for errors.
func (sc *Config) Where() string {
	if len(sc.names) == 0 {
		return "ssh config"
	}
	return strings.Join(sc.names, " or ")
}

// Lookup evaluates the files for one host as ssh does. alias is the host
// as given (without user and port), user the user the host string gives
// ("" if none) and defaultUser the user to assume when neither it nor a
// User line names one ("" for the local user); Match user sees the first
// of these that is set.
//
// Lines before the first Host or Match of a file apply to every host. A
// Host line applies its block when one of its patterns matches alias
// (case-sensitively, as ssh) and no negated one does; a Match line when
// all of its criteria hold. An Include applies the files it names only
// where its own line applies. When a Match line asks for "final" (or
// CanonicalizeHostname is on), the files are evaluated a second time,
// as ssh does, with the host's HostName in place of the alias and
// "final" and "canonical" true; values already obtained are kept.
func (sc *Config) Lookup(alias, user, defaultUser string) *Host {
	ev := &evaluation{alias: alias, host: alias, user: user, defaultUser: defaultUser, hc: &Host{}}
	for _, f := range sc.files {
		ev.apply(f, true, false)
	}
	finalPass := sc.final
	switch strings.ToLower(ev.hc.Get("CanonicalizeHostname")) {
	case "yes", "true", "always":
		finalPass = true
	}
	if !finalPass {
		return ev.hc
	}
	if hn := ev.hc.Get("HostName"); hn != "" {
		ev.host = ExpandHostName(hn, alias)
	} else {
		// ssh fixes the HostName before the final pass.
		ev.hc.add(&configLine{key: "hostname", args: []string{strings.ReplaceAll(alias, "%", "%%")}})
	}
	ev.host = strings.ToLower(ev.host)
	ev.final = true
	for _, f := range sc.files {
		ev.apply(f, true, false)
	}
	return ev.hc
}

// evaluation is the state of one lookup.
type evaluation struct {
	alias       string // the host as given, for Match originalhost
	host        string // what Host patterns match: the alias, then in the final pass the HostName
	user        string // from the host string
	defaultUser string
	final       bool // the final pass
	hc          *Host
}

// apply applies the lines of f that hold for the host. active says
// whether lines before f's first Host or Match apply; never that none of
// f's blocks may (f is included from a block that does not apply).
func (ev *evaluation) apply(f *configFile, active, never bool) {
	for i := range f.lines {
		ln := &f.lines[i]
		switch ln.key {
		case "host":
			active = !never && ev.matchHost(ln.args)
		case "match":
			active = !never && ev.matchAll(ln.match)
		case "include":
			for _, inc := range ln.included {
				ev.apply(inc, active, never || !active)
			}
		default:
			if active {
				ev.hc.add(ln)
			}
		}
	}
}

// matchHost reports whether a Host line's patterns select the host.
func (ev *evaluation) matchHost(patterns []string) bool {
	ok := false
	for _, p := range patterns {
		negate := strings.HasPrefix(p, "!")
		if negate {
			p = p[1:]
		}
		if matchPattern(ev.host, p) {
			if negate {
				return false
			}
			ok = true
		}
	}
	return ok
}

// matchAll reports whether all criteria of a Match line hold. exec is
// never run: a Match with exec, or with a criterion this reader does not
// know, matches nothing.
func (ev *evaluation) matchAll(crit []matchCriterion) bool {
	for _, c := range crit {
		var ok bool
		switch c.kind {
		case "all":
			ok = true
		case "canonical", "final":
			ok = ev.final
		case "host":
			host := ev.host
			if hn := ev.hc.Get("HostName"); hn != "" && !ev.final {
				host = ExpandHostName(hn, ev.alias)
			}
			ok = matchList(strings.ToLower(host), strings.ToLower(c.arg))
		case "originalhost":
			ok = matchList(strings.ToLower(ev.alias), strings.ToLower(c.arg))
		case "user":
			ok = matchList(ev.remoteUser(), c.arg)
		case "localuser":
			ok = matchList(LocalUser(), c.arg)
		default:
			return false
		}
		if ok == c.negate {
			return false
		}
	}
	return true
}

// remoteUser is the user ssh would log in as if the files ended here.
func (ev *evaluation) remoteUser() string {
	switch {
	case ev.user != "":
		return ev.user
	case ev.hc.Get("User") != "":
		return ev.hc.Get("User")
	case ev.defaultUser != "":
		return ev.defaultUser
	}
	return LocalUser()
}

// ExpandHostName expands the %h (the alias) and %% of a HostName value;
// other tokens are left as they are.
func ExpandHostName(v, alias string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+1 < len(v) {
			switch v[i+1] {
			case 'h':
				b.WriteString(alias)
				i++
				continue
			case '%':
				b.WriteByte('%')
				i++
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// matchPattern reports whether s matches an ssh_config pattern, where
// '*' matches any run of bytes and '?' exactly one byte.
func matchPattern(s, p string) bool {
	si, pi := 0, 0
	star, starS := -1, 0 // the last '*' seen, and where in s it began to match
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, starS = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			si++
			pi++
		case star >= 0:
			starS++
			si, pi = starS, star+1
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchList reports whether s matches a comma-separated pattern list: a
// pattern matches and no negated ("!pattern") one does.
func matchList(s, list string) bool {
	ok := false
	for p := range strings.SplitSeq(list, ",") {
		negate := strings.HasPrefix(p, "!")
		if negate {
			p = p[1:]
		}
		if matchPattern(s, p) {
			if negate {
				return false
			}
			ok = true
		}
	}
	return ok
}

// Host is what ssh_config says about one host: for each keyword
// the lines that apply, in order; one line for a single-valued keyword
// (the first obtained), every distinct one for a multi-valued keyword.
type Host struct {
	lines map[string][]*configLine // by lower-case keyword
}

func (h *Host) add(ln *configLine) {
	if len(ln.args) == 0 {
		return // a keyword with only a comment sets nothing
	}
	if h.lines == nil {
		h.lines = map[string][]*configLine{}
	}
	have := h.lines[ln.key]
	if len(have) > 0 && !accumulates(ln.key) {
		return
	}
	// ProxyJump and ProxyCommand exclude each other: as in ssh, the
	// first one obtained wins ("none" included).
	if other := map[string]string{"proxyjump": "proxycommand", "proxycommand": "proxyjump"}[ln.key]; other != "" && len(h.lines[other]) > 0 {
		return
	}
	for _, o := range have {
		if slices.Equal(o.args, ln.args) {
			return // ssh drops repeated identity files and forwardings
		}
	}
	h.lines[ln.key] = append(have, ln)
}

// Get returns the first value of key, or "".
func (h *Host) Get(key string) string {
	if args := h.Args(key); len(args) > 0 {
		return args[0]
	}
	return ""
}

// Args returns all values of key's line (UserKnownHostsFile takes
// several), or nil.
func (h *Host) Args(key string) []string {
	if lines := h.lines[strings.ToLower(key)]; len(lines) > 0 {
		return lines[0].args
	}
	return nil
}

// GetAll returns the first value of every line of a multi-valued key
// (IdentityFile), in order.
func (h *Host) GetAll(key string) []string {
	var all []string
	for _, ln := range h.lines[strings.ToLower(key)] {
		all = append(all, ln.args[0])
	}
	return all
}

// Origin returns the file and line key's value came from; "" and 0 when
// key is not set.
func (h *Host) Origin(key string) (file string, line int) {
	if lines := h.lines[strings.ToLower(key)]; len(lines) > 0 {
		return lines[0].file, lines[0].line
	}
	return "", 0
}

// LocalUser is the user this process runs as: $USER, else the user
// database's name for it; "" when neither says. It is what Match localuser
// and %u see, and ssh's login user when nothing else names one.
func LocalUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
